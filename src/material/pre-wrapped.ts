/**
 * Material that was wrapped elsewhere — typically inside an HSM that never lets the plaintext out — and
 * arrives here as a finished blob. It cannot be validated or fingerprinted locally (we never see the key),
 * so the user supplies the fingerprint that identifies it.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { KeyMaterialError } from './errors';
import { KEY_IDENTIFIER_PATTERN } from './fingerprint';

/** How a pre-wrapped blob is identified. */
export interface PreWrappedOptions {
  /**
   * A stable identifier of the key inside the blob; it becomes the replace trigger and the annotation that
   * import, adoption and deletion check.
   *
   * - Asymmetric keys: `spki-sha256:<64 hex>` of the public key (`thalassa-byok fingerprint` of the public
   *   key, or `openssl pkey -pubin -outform DER | sha256sum`).
   * - Symmetric keys: any stable identifier of 6..128 characters from `[A-Za-z0-9:._-]`, such as the HSM's key
   *   check value (`kcv:1a2b3c`). It must change whenever the key does.
   */
  readonly fingerprint: string;
}


/** A wrapped blob made elsewhere (an HSM), with the fingerprint that identifies the key inside it. */
export class PreWrappedKeyMaterial {
  /** The user-supplied identifier of the key in the blob. */
  public readonly fingerprint: string;
  /** Where the blob came from, for messages. */
  public readonly source: string;
  readonly #blob: Buffer;

  /**
   * @param blob the wrapped blob, as bytes or as base64 text (what `importKeyMaterial` takes)
   */
  constructor(blob: Uint8Array | string, options: PreWrappedOptions, source = 'pre-wrapped blob in memory') {
    this.source = source;
    this.#blob = typeof blob === 'string' ? decodeBase64Blob(blob, source) : Buffer.from(blob);
    if (this.#blob.length === 0) throw new KeyMaterialError('MATERIAL_SOURCE', `The pre-wrapped blob from ${source} is empty.`);
    const fingerprint = options?.fingerprint;
    if (typeof fingerprint !== 'string' || !KEY_IDENTIFIER_PATTERN.test(fingerprint)) {
      throw new KeyMaterialError(
        'MATERIAL_FORMAT',
        `A pre-wrapped blob needs a fingerprint: "spki-sha256:<64 hex>" for asymmetric keys, or a stable identifier of 6..128 characters ` +
          `from [A-Za-z0-9:._-] (such as the HSM's key check value) for symmetric keys; received ${fingerprint === undefined ? 'none' : `${String(fingerprint).length} characters that do not fit`}.`,
      );
    }
    this.fingerprint = fingerprint;
  }

  /** Reads a pre-wrapped blob (binary, or base64 text) from a file. */
  public static fromFile(path: string, options: PreWrappedOptions): PreWrappedKeyMaterial {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw new KeyMaterialError('MATERIAL_SOURCE', `Cannot read the pre-wrapped blob from file ${path} (${(err as NodeJS.ErrnoException).code}).`);
    }
    const text = data.toString('latin1').trim();
    const isBase64 = /^[A-Za-z0-9+/\s]+={0,2}$/.test(text);
    return new PreWrappedKeyMaterial(isBase64 ? text : data, options, `file ${path}`);
  }

  /** The blob's bytes (not a copy). */
  public blob(): Buffer {
    return this.#blob;
  }

  public toString(): string {
    return `PreWrappedKeyMaterial(${this.fingerprint}, ${this.#blob.length} bytes)`;
  }

  public toJSON(): { fingerprint: string; source: string } {
    return { fingerprint: this.fingerprint, source: this.source };
  }

  public [inspect.custom](): string {
    return this.toString();
  }
}

function decodeBase64Blob(text: string, source: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new KeyMaterialError('MATERIAL_FORMAT', `The pre-wrapped blob from ${source} is not valid base64 (${compact.length} characters).`);
  }
  return Buffer.from(compact, 'base64');
}
