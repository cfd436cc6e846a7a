import { parseError } from './es-errors';

/** Narrowing helpers for request bodies: the stand-in parses its input like the product does (no casts). */
export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJsonObject(text: string, what = 'request body'): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw parseError(`failed to parse ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(value)) throw parseError(`${what} must be a JSON object`);
  return value;
}

export function optionalObject(obj: JsonObject, key: string): JsonObject | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw parseError(`[${key}] must be an object`);
  return value;
}

export function stringList(obj: JsonObject, key: string): string[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw parseError(`[${key}] must be a list of strings`);
  }
  return [...value];
}

export function optionalString(obj: JsonObject, key: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw parseError(`[${key}] must be a string`);
  return value;
}

export function objectList(obj: JsonObject, key: string): JsonObject[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw parseError(`[${key}] must be a list of objects`);
  return [...value];
}

/** `*` and `?` wildcards, as Elasticsearch index and resource patterns use them. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function matchesGlob(pattern: string, name: string): boolean {
  return pattern === name || globToRegExp(pattern).test(name);
}
