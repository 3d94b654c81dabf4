/**
 * The root of every error this package throws on purpose.
 *
 * Each failure family (key types, key material, wrapping, the API, construct validation) has its own
 * subclass, and every instance carries a stable, machine-readable `code`. Messages say what was expected and
 * what was received, and never contain key material, wrapped blobs or tokens: callers may log them freely.
 */
export class ByokError extends Error {
  /** A stable identifier for this failure, e.g. `MATERIAL_LENGTH`. Safe to branch on. */
  public readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}
