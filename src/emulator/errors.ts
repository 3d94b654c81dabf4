import { ByokError } from '../errors';

/**
 * An error the emulator answers over HTTP: `status` is the response code and `message` the body's
 * `{"message": ...}`. Messages name the problem, never the material, blob or token that caused it.
 *
 * Codes: `BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `CONFLICT`,
 * `PAYLOAD_TOO_LARGE`, `UNAVAILABLE`, `INTERNAL`, and `STATE_FILE` (the data directory cannot be used at start).
 */
export class EmulatorError extends ByokError {
  constructor(
    code: string,
    /** The HTTP status this error is answered with. */
    public readonly status: number,
    message: string,
    /** Extra response headers (e.g. `Allow` on a 405). */
    public readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

export const badRequest = (message: string): EmulatorError => new EmulatorError('BAD_REQUEST', 400, message);
export const unauthorized = (message: string): EmulatorError => new EmulatorError('UNAUTHORIZED', 401, message);
export const forbidden = (message: string): EmulatorError => new EmulatorError('FORBIDDEN', 403, message);
export const notFound = (message: string): EmulatorError => new EmulatorError('NOT_FOUND', 404, message);
export const conflict = (message: string): EmulatorError => new EmulatorError('CONFLICT', 409, message);
export const unavailable = (message: string): EmulatorError => new EmulatorError('UNAVAILABLE', 503, message);
export const methodNotAllowed = (method: string, allowed: readonly string[]): EmulatorError =>
  new EmulatorError('METHOD_NOT_ALLOWED', 405, `Method ${method.slice(0, 16)} is not allowed here; allowed: ${allowed.join(', ')}.`, { Allow: allowed.join(', ') });
export const payloadTooLarge = (limit: number): EmulatorError =>
  new EmulatorError('PAYLOAD_TOO_LARGE', 413, `The request body exceeds the limit of ${limit} bytes.`);
