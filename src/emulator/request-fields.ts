/**
 * Typed reading of JSON request bodies. Each reader throws a 400 that names the field and what was expected,
 * and describes a wrong value by its JSON type only — a field may hold key material.
 */
import { badRequest } from './errors';

/** A parsed JSON object body. */
export type JsonObject = Record<string, unknown>;

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** A string field; `undefined` when absent. Length is counted in characters. */
export function stringField(body: JsonObject, name: string, limits: { min?: number; max?: number; required?: boolean } = {}): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (limits.required) throw badRequest(`"${name}" is required.`);
    return undefined;
  }
  if (typeof value !== 'string') throw badRequest(`"${name}" must be a string; received ${typeOf(value)}.`);
  const length = [...value].length;
  if ((limits.min !== undefined && length < limits.min) || (limits.max !== undefined && length > limits.max)) {
    throw badRequest(`"${name}" must be ${limits.min ?? 0} to ${limits.max ?? 'any number of'} characters long; received ${length}.`);
  }
  return value;
}

/** A boolean field; `undefined` when absent. */
export function booleanField(body: JsonObject, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`"${name}" must be a boolean; received ${typeOf(value)}.`);
  return value;
}

/** An integer field within bounds; `undefined` when absent. */
export function integerField(body: JsonObject, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest(`"${name}" must be an integer; received ${typeOf(value)}.`);
  if (value < min || value > max) throw badRequest(`"${name}" must be between ${min} and ${max}; received ${value}.`);
  return value;
}

/**
 * A key version (`keyVersion`): the official client sends it as a decimal string (`"2"`); a number is accepted
 * too, so older callers keep working. An empty string counts as absent (the client's `omitempty`).
 */
export function versionField(body: JsonObject, name: string, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') {
    if (!/^[0-9]{1,10}$/.test(value)) throw badRequest(`"${name}" must be a version number such as "1"; received a string that is not one.`);
    const version = Number(value);
    if (version < 1 || version > max) throw badRequest(`"${name}" must be between 1 and ${max}; received ${version}.`);
    return version;
  }
  if (typeof value === 'number') return integerField(body, name, 1, max);
  throw badRequest(`"${name}" must be a version string such as "1" (or an integer); received ${typeOf(value)}.`);
}

/** A string-to-string map (labels, annotations); `{}` when absent. */
export function stringMapField(body: JsonObject, name: string): Record<string, string> {
  const value = body[name];
  if (value === undefined || value === null) return {};
  if (typeOf(value) !== 'object') throw badRequest(`"${name}" must be an object of strings; received ${typeOf(value)}.`);
  const map: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as JsonObject)) {
    if (typeof v !== 'string') throw badRequest(`"${name}" must map strings to strings; the value of ${JSON.stringify(key.slice(0, 64))} is ${typeOf(v)}.`);
    map[key] = v;
  }
  return map;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** A base64 field decoded to bytes (standard alphabet, padding optional); `undefined` when absent. */
export function base64Field(body: JsonObject, name: string, limits: { required?: boolean; min?: number; max?: number } = {}): Buffer | undefined {
  const text = stringField(body, name, { required: limits.required });
  if (text === undefined) return undefined;
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw badRequest(`"${name}" must be base64 (standard alphabet).`);
  const bytes = Buffer.from(compact, 'base64');
  if ((limits.min !== undefined && bytes.length < limits.min) || (limits.max !== undefined && bytes.length > limits.max)) {
    throw badRequest(`"${name}" must decode to ${limits.min ?? 0} to ${limits.max ?? 'any number of'} bytes; received ${bytes.length}.`);
  }
  return bytes;
}
