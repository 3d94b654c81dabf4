/**
 * The request log: one entry per request with method, path, status and duration. Only the path and the
 * *names* of query parameters are kept — never a header, a body, a query value, a token or key material.
 */
import type { FaultKind } from './faults';

/** One request, as logged. */
export interface RequestLogEntry {
  /** When the request arrived (ISO 8601). */
  readonly time: string;
  readonly method: string;
  /** The path, plus the names (not the values) of query parameters, e.g. `/v1/kms/nl-01/keys?name`. */
  readonly path: string;
  /** The status answered, or that would have been answered (drop-after-commit); 0 for a reset. */
  readonly status: number;
  readonly durationMs: number;
  /** The injected fault that shaped this request, if any. */
  readonly fault?: FaultKind;
}

const MAX_PATH_CHARS = 512;

/** The loggable form of a request target: path and query parameter names only. */
export function loggablePath(url: URL): string {
  const names = [...new Set([...url.searchParams.keys()])].map((n) => encodeURIComponent(n).replace(/%5B/g, '[').replace(/%5D/g, ']'));
  const path = names.length > 0 ? `${url.pathname}?${names.join('&')}` : url.pathname;
  return path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}…` : path;
}

/** `2025-01-01T00:00:00.000Z POST /v1/kms/nl-01/keys 201 12ms [fault=…]`. */
export function formatLogLine(entry: RequestLogEntry): string {
  const status = entry.status === 0 ? '-' : String(entry.status);
  return `${entry.time} ${entry.method} ${entry.path} ${status} ${entry.durationMs}ms${entry.fault ? ` fault=${entry.fault}` : ''}`;
}
