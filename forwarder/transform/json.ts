import { isRecord } from '../../core/parse';

/**
 * Typed readers over parsed intake JSON. The proxy already validated every line against the intake v2 rules, but
 * the transform still reads defensively: a field of the wrong type is treated as absent, never trusted by a cast.
 */

export type JsonObject = Record<string, unknown>;

export { isRecord };

export function obj(from: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = from?.[key];
  return isRecord(value) ? value : undefined;
}

/** A string field; empty strings count as absent, as APM Server's `omitempty` output does. */
export function str(from: JsonObject | undefined, key: string): string | undefined {
  const value = from?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function num(from: JsonObject | undefined, key: string): number | undefined {
  const value = from?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function bool(from: JsonObject | undefined, key: string): boolean | undefined {
  const value = from?.[key];
  return typeof value === 'boolean' ? value : undefined;
}

export function list(from: JsonObject | undefined, key: string): unknown[] | undefined {
  const value = from?.[key];
  return Array.isArray(value) && value.length > 0 ? value : undefined;
}

export function strings(from: JsonObject | undefined, key: string): string[] | undefined {
  const values = list(from, key);
  if (values === undefined) return undefined;
  const out = values.filter((v): v is string => typeof v === 'string');
  return out.length > 0 ? out : undefined;
}

/** A non-empty object field (APM Server drops empty maps such as `"custom": {}`). */
export function nonEmptyObj(from: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = obj(from, key);
  return value !== undefined && Object.keys(value).length > 0 ? value : undefined;
}

/** Sets `target[key] = value` unless value is undefined; keeps document literals flat and readable. */
export function put(target: JsonObject, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/** Returns the object, or undefined when no key was set: APM Server never writes empty objects. */
export function orUndefined(value: JsonObject): JsonObject | undefined {
  for (const _ in value) return value;
  return undefined;
}
