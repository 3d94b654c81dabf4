/**
 * Where key material comes from (a file, an environment variable, bytes in memory) and the loaded, validated,
 * canonical form it becomes for one key type.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { looksLikeVariableName, shownPath, shownVariable } from '../disclosure';
import { importableKeyType, type ImportableKeyType } from '../key-types';
import { KeyMaterialError } from './errors';
import { fingerprintCanonical, symmetricCommitment } from './fingerprint';
import { normalizeMaterialKey, type MaterialFormat, type MaterialParseOptions } from './parse';
import { HsmKeyMaterial, type Pkcs11KeySource } from './hsm-material';
import { PreWrappedKeyMaterial, type PreWrappedOptions } from './pre-wrapped';

/** How to read a key material source. */
export interface KeyMaterialOptions {
  /**
   * The encoding of the material.
   * @default 'auto' — recognised from the input (raw / hex / base64 for symmetric keys; PEM, DER, JWK, or a raw
   * seed for Ed25519, for asymmetric keys)
   */
  readonly format?: MaterialFormat;
  /**
   * The name of an environment variable holding the passphrase of an encrypted PKCS#8 PEM.
   * The passphrase itself never appears in code, output or state.
   * @default - the material is not encrypted
   */
  readonly passphraseEnv?: string;
}

/**
 * A source of key material. Nothing is read until {@link KeyMaterial.load} is called with the key type the
 * material is for; the source only remembers where to look.
 */
export abstract class KeyMaterial {
  /** Reads the material from a file (binary, or text such as PEM, hex, base64 or JWK). */
  public static fromFile(path: string, options: KeyMaterialOptions = {}): KeyMaterial {
    return new FileKeyMaterial(path, options);
  }

  /** Reads the material from an environment variable holding text (hex, base64, PEM or JWK). */
  public static fromEnv(variable: string, options: KeyMaterialOptions = {}): KeyMaterial {
    return new EnvKeyMaterial(variable, options);
  }

  /** Takes the material from memory. The bytes are copied; zero your own copy when you are done with it. */
  public static fromBytes(bytes: Uint8Array | string, options: KeyMaterialOptions = {}): KeyMaterial {
    return new BytesKeyMaterial(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes), options);
  }

  /**
   * A blob already wrapped elsewhere (an HSM's export-wrapped key), as bytes or base64 text. The key inside
   * cannot be checked locally, so you supply its fingerprint; see {@link PreWrappedOptions.fingerprint}.
   */
  public static preWrapped(blob: Uint8Array | string, options: PreWrappedOptions): PreWrappedKeyMaterial {
    return new PreWrappedKeyMaterial(blob, options);
  }

  /**
   * A key inside a PKCS#11 token (an HSM), named by the token's label and the key's `CKA_LABEL` (`keyLabel`) or
   * hex `CKA_ID` (`keyId`); the user PIN is read from the environment variable `pinEnv` at synth. At synth the
   * construct has the token wrap the key for import: the plaintext key never leaves the token. The key must be
   * extractable, and the token must offer RSA-OAEP with the construct's `hashFunction` (SoftHSM2 2.6.1 offers
   * SHA-1 only). Needs the optional peer dependency `pkcs11js`, loaded only at synth. See docs/hsm.md.
   */
  public static fromPkcs11(source: Pkcs11KeySource): HsmKeyMaterial {
    return new HsmKeyMaterial(source);
  }

  /** Says where the material comes from, for messages (e.g. `file keys/master.pem`). Never the material. */
  public abstract readonly source: string;

  protected constructor(protected readonly options: KeyMaterialOptions) {}

  /**
   * Reads, normalizes and validates the material for `keyType`.
   * @throws KeyMaterialError or KeyTypeError, naming what was expected and what was received
   */
  public load(keyType: string | ImportableKeyType): CanonicalKeyMaterial {
    const type = typeof keyType === 'string' ? importableKeyType(keyType) : keyType;
    const input = this.read();
    try {
      const { canonical, fingerprint } = normalizeMaterialKey(input, type, this.parseOptions());
      if (fingerprint !== undefined) PARSED_FINGERPRINTS.set(canonical, fingerprint);
      return new CanonicalKeyMaterial(type, canonical, this.source);
    } catch (err) {
      if (err instanceof KeyMaterialError) {
        throw new KeyMaterialError(err.code, `${err.message} (material from ${this.source})`);
      }
      throw err;
    } finally {
      input.fill(0);
    }
  }

  /** The raw input bytes; the caller zeroes them after use. */
  protected abstract read(): Buffer;

  private parseOptions(): MaterialParseOptions {
    const variable = this.options.passphraseEnv;
    if (variable === undefined) return { format: this.options.format };
    const passphrase = process.env[variable];
    if (passphrase === undefined || passphrase === '') {
      throw new KeyMaterialError(
        'MATERIAL_PASSPHRASE_MISSING',
        `The passphrase for the key material from ${this.source} is read from environment variable ${shownVariable(variable)}, which is not set or empty. Export ${looksLikeVariableName(variable) ? variable : 'it'} before running.`,
      );
    }
    return { format: this.options.format, passphrase, passphraseSource: `environment variable ${shownVariable(variable)}` };
  }

  /** A source prints as its description only. */
  public toString(): string {
    return `KeyMaterial(${this.source})`;
  }
}

class FileKeyMaterial extends KeyMaterial {
  public readonly source: string;

  constructor(private readonly path: string, options: KeyMaterialOptions) {
    super(options);
    this.source = `file ${shownPath(path)}`;
  }

  protected read(): Buffer {
    try {
      return readFileSync(this.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : `error ${code}`;
      throw new KeyMaterialError('MATERIAL_SOURCE', `Cannot read key material from file ${shownPath(this.path)}: ${why}. Check the path (relative paths resolve against ${process.cwd()}).`);
    }
  }
}

class EnvKeyMaterial extends KeyMaterial {
  public readonly source: string;

  constructor(private readonly variable: string, options: KeyMaterialOptions) {
    super(options);
    this.source = `environment variable ${shownVariable(variable)}`;
  }

  protected read(): Buffer {
    const value = process.env[this.variable];
    if (value === undefined || value === '') {
      throw new KeyMaterialError('MATERIAL_SOURCE', `Environment variable ${shownVariable(this.variable)} is not set or empty; it should hold the key material (hex, base64, PEM or JWK). Export it before running.`);
    }
    return Buffer.from(value, 'utf8');
  }
}

class BytesKeyMaterial extends KeyMaterial {
  public readonly source = 'bytes in memory';
  // A #private field: a TypeScript `private` is an ordinary property that spreads, clones and inspects.
  readonly #bytes: Buffer;

  constructor(bytes: Buffer, options: KeyMaterialOptions) {
    super(options);
    this.#bytes = bytes;
  }

  protected read(): Buffer {
    return Buffer.from(this.#bytes);
  }

  public [inspect.custom](): string {
    return this.toString();
  }

  public toJSON(): string {
    return this.toString();
  }
}

/**
 * The fingerprint of the key `load` parsed the canonical bytes from: parsing them again costs as much as the
 * first parse. Module-private, so nothing outside can pair bytes with another key's fingerprint.
 */
const PARSED_FINGERPRINTS = new WeakMap<Buffer, string>();

/**
 * Validated key material in its canonical import format (raw bytes, or PKCS#8 DER), with its fingerprint.
 *
 * It prints, logs and serializes as its key type and fingerprint only; the bytes are reachable through
 * {@link CanonicalKeyMaterial.bytes} alone, and {@link CanonicalKeyMaterial.destroy} zeroes them.
 */
export class CanonicalKeyMaterial {
  /** `spki-sha256:…` or `hmac-sha256:…`; safe to store and print. */
  public readonly fingerprint: string;
  readonly #bytes: Buffer;
  readonly #commitment?: string;
  #destroyed = false;

  constructor(public readonly keyType: ImportableKeyType, canonical: Buffer, public readonly source: string) {
    this.#bytes = canonical;
    const parsed = PARSED_FINGERPRINTS.get(canonical);
    // Once only: `bytes()` hands out this very buffer, and after `destroy` zeroes it, another material built
    // on it must not inherit this key's fingerprint.
    PARSED_FINGERPRINTS.delete(canonical);
    this.fingerprint = parsed ?? fingerprintCanonical(canonical, keyType);
    if (keyType.category === 'symmetric') this.#commitment = symmetricCommitment(canonical);
  }

  /**
   * Symmetric keys: the commitment import records on the key, proof for a later adoption that the key was
   * made from this material (asymmetric keys prove it with their public key). Keep it out of state and logs:
   * a method over a #private field, so it does not spread or serialize with the object.
   */
  public commitment(): string | undefined {
    return this.#commitment;
  }

  /** The canonical bytes themselves (not a copy). Hand them only to `wrap`. Throws after {@link destroy}. */
  public bytes(): Buffer {
    // Zeroed bytes still look like a valid symmetric key: handing them out would wrap (and import) a known key.
    if (this.#destroyed) throw new Error(`${this.toString()} was destroyed; load the material again.`);
    return this.#bytes;
  }

  /** Overwrites the bytes with zeros; the object is unusable afterwards. */
  public destroy(): void {
    this.#bytes.fill(0);
    this.#destroyed = true;
  }

  public toString(): string {
    return `CanonicalKeyMaterial(${this.keyType.name}, ${this.fingerprint})`;
  }

  public toJSON(): { keyType: string; fingerprint: string; source: string } {
    return { keyType: this.keyType.name, fingerprint: this.fingerprint, source: this.source };
  }

  public [inspect.custom](): string {
    return this.toString();
  }
}
