/**
 * The region's RSA public wrapping key: parsed once, checked (RSA, at least 2048 bits), fingerprinted, and
 * optionally pinned so that a substituted key fails before anything is wrapped with it.
 */
import { describeHidden, shownPath } from '../disclosure';
import { createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiClientOptions } from '../api';
import { spkiFingerprint } from '../material';
import { WrappingError } from './errors';

/** The smallest RSA modulus accepted for a wrapping key. */
export const MIN_WRAPPING_KEY_BITS = 2048;

/** Options for loading a wrapping key. */
export interface WrappingKeyOptions {
  /**
   * The expected fingerprint, `spki-sha256:<64 hex>` (as printed by `thalassa-byok wrapping-key`). A key with
   * another fingerprint is refused.
   * @default - not pinned (a construct warns about this at synth)
   */
  readonly pin?: string;
}

/** What `GET /v1/kms/{region}/wrapping-key` answers. */
export interface WrappingKeyResponse {
  readonly publicKey: string;
  readonly algorithm?: string;
}

/** Where to fetch a wrapping key from; API settings fall back to the THALASSA_* environment variables. */
export interface WrappingKeyFetchOptions extends ApiClientOptions, WrappingKeyOptions {
  /** The region whose wrapping key to fetch, e.g. `nl-01`. */
  readonly region: string;
}

/** An RSA public key that key material is wrapped with for import into one region. */
export class WrappingKey {
  /**
   * Fetches the region's wrapping key from the API, for apps that `await` it before building their stacks.
   * Synth then needs the network and credentials; a PEM committed to the repo (`fromPemFile`) keeps synth
   * offline and the key reviewable, and is the better default. Pin either way.
   */
  public static async fetch(options: WrappingKeyFetchOptions): Promise<WrappingKey> {
    // Loaded on demand: wrapping itself needs no HTTP client, and most apps never fetch.
    const { KmsClient } = await import('../api');
    const client = KmsClient.fromEnvironment(options);
    try {
      return WrappingKey.fromApiResponse(await client.wrappingKey(options.region), { pin: options.pin });
    } finally {
      await client.close();
    }
  }

  /** From PEM text: an SPKI `PUBLIC KEY` or a PKCS#1 `RSA PUBLIC KEY`. */
  public static fromPem(pem: string, options: WrappingKeyOptions = {}): WrappingKey {
    return new WrappingKey(parsePublicKey(pem, 'the PEM text'), options, 'PEM text');
  }

  /** From a PEM file, e.g. one saved with `thalassa-byok wrapping-key --out` and committed for review. */
  public static fromPemFile(path: string, options: WrappingKeyOptions = {}): WrappingKey {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new WrappingError('WRAPPING_KEY_SOURCE', `Cannot read the wrapping key file ${shownPath(path)} (${(err as NodeJS.ErrnoException).code}). Fetch it with "thalassa-byok wrapping-key --region <region> --out <file>".`);
    }
    return new WrappingKey(parsePublicKey(pem, `file ${shownPath(path)}`), options, `file ${shownPath(path)}`);
  }

  /** From the API's answer: JSON `{publicKey, algorithm?}` (as text or parsed), or a bare PEM body. */
  public static fromApiResponse(body: string | WrappingKeyResponse, options: WrappingKeyOptions = {}): WrappingKey {
    let response: unknown = body;
    if (typeof body === 'string') {
      const text = body.trim();
      if (text.startsWith('-----BEGIN')) return WrappingKey.fromPem(text, options);
      try {
        response = JSON.parse(text);
      } catch {
        throw new WrappingError('WRAPPING_KEY_INVALID', 'The wrapping-key response is neither JSON nor PEM.');
      }
    }
    const pem = (response as Partial<WrappingKeyResponse> | null)?.publicKey;
    if (typeof pem !== 'string') {
      throw new WrappingError('WRAPPING_KEY_INVALID', 'The wrapping-key response has no "publicKey" string; expected {"publicKey": "-----BEGIN PUBLIC KEY-----…"}.');
    }
    const algorithm = (response as WrappingKeyResponse).algorithm;
    return new WrappingKey(parsePublicKey(pem, 'the API response'), options, 'API response', typeof algorithm === 'string' ? algorithm : undefined);
  }

  /** `spki-sha256:<hex>` of the key; compare it with the pin you keep in code. */
  public readonly fingerprint: string;
  /** The RSA modulus size in bits. */
  public readonly modulusBits: number;
  /** The key as an SPKI PEM (a normalized form, whatever was loaded). */
  public readonly pem: string;
  /** Whether a pin was given and matched. */
  public readonly pinned: boolean;

  private constructor(
    /** The parsed public key. */
    public readonly publicKey: KeyObject,
    options: WrappingKeyOptions,
    /** Where the key came from, for messages. */
    public readonly source: string,
    /** The algorithm the API named, if any (informational). */
    public readonly algorithm?: string,
  ) {
    if (publicKey.asymmetricKeyType !== 'rsa') {
      throw new WrappingError('WRAPPING_KEY_NOT_RSA', `The wrapping key from ${source} must be an RSA public key; received a ${publicKey.asymmetricKeyType ?? 'non-asymmetric'} key.`);
    }
    this.modulusBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (this.modulusBits < MIN_WRAPPING_KEY_BITS) {
      throw new WrappingError('WRAPPING_KEY_TOO_SMALL', `The wrapping key from ${source} is RSA-${this.modulusBits}; at least RSA-${MIN_WRAPPING_KEY_BITS} is required (Thalassa's is RSA-4096).`);
    }
    this.fingerprint = spkiFingerprint(publicKey);
    this.pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    this.pinned = options.pin !== undefined;
    if (options.pin !== undefined) checkPin(options.pin, this.fingerprint, source);
  }

  /** The modulus size in bytes: the length of the RSA-OAEP part of every blob wrapped with this key. */
  public get modulusBytes(): number {
    return Math.ceil(this.modulusBits / 8);
  }
}

function parsePublicKey(pem: string, source: string): KeyObject {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === undefined) {
    throw new WrappingError('WRAPPING_KEY_INVALID', `The wrapping key from ${source} is not PEM: expected "-----BEGIN PUBLIC KEY-----".`);
  }
  if (label.includes('PRIVATE')) {
    throw new WrappingError('WRAPPING_KEY_INVALID', `The wrapping key from ${source} is a private key ("${label}"); a wrapping key is the region's public key. Never keep a private key where a wrapping key belongs.`);
  }
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new WrappingError('WRAPPING_KEY_INVALID', `The wrapping key from ${source} ("${label}") does not parse as a public key: it may be truncated or damaged.`);
  }
}

function checkPin(pin: string, actual: string, source: string): void {
  const normalized = pin.trim().toLowerCase();
  const expected = /^[0-9a-f]{64}$/.test(normalized) ? `spki-sha256:${normalized}` : normalized;
  if (!/^spki-sha256:[0-9a-f]{64}$/.test(expected)) {
    throw new WrappingError('WRAPPING_KEY_PIN_MISMATCH', `The wrapping key pin (${describeHidden(pin)}) is not a fingerprint; expected "spki-sha256:" followed by 64 hex digits.`);
  }
  if (expected !== actual) {
    throw new WrappingError(
      'WRAPPING_KEY_PIN_MISMATCH',
      // The pin is repeated only when written as a fingerprint (with its prefix): a bare hex pin may be a key pasted
      // in the wrong place, and must not reach a log.
      `The wrapping key from ${source} has fingerprint ${actual}, which is not the pinned fingerprint${pin.trim().toLowerCase().startsWith('spki-sha256:') ? ` ${expected}` : ''}. The key may have been substituted, ` +
        `or it belongs to another region; if the region's key really changed, verify it out of band and update the pin.`,
    );
  }
}
