/**
 * The construct's failure family. Every message has the same four parts — the construct path, the property,
 * what was expected and what was received — and never contains key material or a wrapped blob: received
 * values are echoed only for settings that are public by nature (names, labels, regions), and truncated.
 */
import { shownValue } from '../disclosure';
import { ByokError } from '../errors';

/** Stable codes of {@link ImportedKmsKeyError}. */
export type ImportedKmsKeyErrorCode =
  /** A property has the wrong type, format, length or range. */
  | 'PROP_INVALID'
  /** A property holds an unresolved token where a concrete value is needed at synth. */
  | 'PROP_TOKEN'
  /** Properties that cannot be combined (e.g. `rotation` without `allowRotation`). */
  | 'PROP_CONFLICT'
  /** The key material, the key type or the wrapping key refused the input (the cause says why). */
  | 'MATERIAL_INVALID'
  /** Two keys in one app would import the same region and physical name. */
  | 'DUPLICATE_KEY'
  /** The synth output folder could be changed by another local user (or is a symlink), so no blob is written there. */
  | 'OUTPUT_UNSAFE';

/** Thrown (or reported through `node.addValidation`) when an `ImportedKmsKey` is misconfigured. */
export class ImportedKmsKeyError extends ByokError {
  /** The construct path of the key, e.g. `app/stack/master-key`. */
  public readonly constructPath: string;
  /** The property at fault, e.g. `labels`. */
  public readonly prop: string;

  constructor(code: ImportedKmsKeyErrorCode, constructPath: string, prop: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.constructPath = constructPath;
    this.prop = prop;
  }
}

/** Renders a public setting for a message: quoted, truncated, with its type when it is not a string. */
export function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  // A string where a KeyMaterial belongs is often the key itself (process.env.KEY_HEX): quoted only when it cannot be.
  if (typeof value === 'string') return shownValue(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  return `a value of type ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`;
}

/** `ImportedKmsKey "<path>": property "<prop>" must be <expected>; received <received>.` */
export function invalidProp(path: string, prop: string, expected: string, received: string, code: ImportedKmsKeyErrorCode = 'PROP_INVALID'): ImportedKmsKeyError {
  return new ImportedKmsKeyError(code, path, prop, propMessage(path, prop, expected, received));
}

/** The shared message shape. A cause's message may end in a period already: one is enough. */
export function propMessage(path: string, prop: string, expected: string, received: string): string {
  return `ImportedKmsKey "${path}": property "${prop}" must be ${expected}; received ${received.replace(/\.$/, '')}.`;
}

/**
 * The message for `node.addValidation`: cdktf prefixes each with `[<construct path>]`, so the path is left
 * out here rather than said twice.
 */
export function validationMessage(err: ImportedKmsKeyError): string {
  const prefix = `ImportedKmsKey "${err.constructPath}": `;
  return err.message.startsWith(prefix) ? `ImportedKmsKey: ${err.message.slice(prefix.length)}` : err.message;
}
