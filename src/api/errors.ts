import { ByokError } from '../errors';

/**
 * Codes of {@link ApiError}. `API_CONFIG_*` are raised before any request is sent.
 *
 * - `API_CONFIG`: a missing or invalid setting (endpoint, credentials, organisation); the message names the
 *   environment variable.
 * - `API_UNAUTHORIZED` (401), `API_FORBIDDEN` (403), `API_NOT_FOUND` (404), `API_CONFLICT` (409),
 *   `API_BAD_REQUEST` (400, 413, 422 …), `API_RATE_LIMITED` (429), `API_UNAVAILABLE` (502, 503, 504),
 *   `API_SERVER_ERROR` (500 and other 5xx), `API_NETWORK` (no HTTP answer: refused, reset, timeout).
 * - `API_PROTOCOL`: an answer that is not what the contract says (not JSON, missing fields).
 * - `API_BAD_ANSWER`: a JSON answer of the wrong shape or about the wrong key (a list entry that is not a key, a
 *   create answered for another name, a lookup answered with another identity). Never retried; on a create it
 *   carries `outcomeUnknown` (look the key up before trying again).
 * - `API_ANSWER_TOO_LARGE`: an answer body over the size limit (`maxAnswerBytes`); the read stops at the limit
 *   and the call is not retried.
 */
export type ApiErrorCode =
  | 'API_CONFIG'
  | 'API_UNAUTHORIZED'
  | 'API_FORBIDDEN'
  | 'API_NOT_FOUND'
  | 'API_CONFLICT'
  | 'API_BAD_REQUEST'
  | 'API_RATE_LIMITED'
  | 'API_UNAVAILABLE'
  | 'API_SERVER_ERROR'
  | 'API_NETWORK'
  | 'API_PROTOCOL'
  | 'API_BAD_ANSWER'
  | 'API_ANSWER_TOO_LARGE';

export interface ApiErrorDetails {
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  /** The API's own `message`, sanitized (length-capped, control characters stripped, long base64/hex runs redacted). */
  readonly apiMessage?: string;
  /** Seconds the server asked us to wait (429). */
  readonly retryAfterSeconds?: number;
  /**
   * True when the request may have been carried out although no success answer arrived (a reset or timeout
   * after sending, a 5xx). A create in this state must be checked by looking the key up, never re-sent blindly.
   */
  readonly outcomeUnknown?: boolean;
}

/** A failed API call or an unusable API configuration. Never carries tokens, material or wrapped blobs. */
export class ApiError extends ByokError {
  declare public readonly code: ApiErrorCode;
  public readonly status?: number;
  public readonly method?: string;
  public readonly path?: string;
  public readonly apiMessage?: string;
  public readonly retryAfterSeconds?: number;
  public readonly outcomeUnknown: boolean;

  constructor(code: ApiErrorCode, message: string, details: ApiErrorDetails = {}) {
    super(code, message);
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.apiMessage = details.apiMessage;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.outcomeUnknown = details.outcomeUnknown ?? false;
  }
}
