import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';

/**
 * The parse at every boundary (job data read back from Redis, Elasticsearch answers, Kibana's documents): one
 * schema per shape, compiled once, so the type and the check cannot drift apart. `discriminator` lets a union
 * say which branch failed instead of "must match a schema in oneOf"; `verbose` puts the failed schema in the error
 * (only a failure pays for it). Write "not empty" as `not: {const: ''}`: minLength counts unicode code points,
 * which costs more than the rest of a job's check.
 */
const ajv = new Ajv({ strict: true, allowUnionTypes: true, discriminator: true, verbose: true });

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** "client.ip must be string": the path that failed and why (the errors of an anyOf's branches become "or"). */
function describe(errors: readonly ErrorObject[]): string {
  const error = errors.at(-1);
  if (error === undefined) return 'does not match its schema';
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  const types = errors.filter((e) => e.keyword === 'type' && e.instancePath === error.instancePath);
  const allowed: unknown = error.params.allowedValues;
  const not: unknown = error.keyword === 'not' && isRecord(error.schema) ? error.schema.const : undefined;
  const reason =
    error.keyword === 'anyOf' && types.length > 0
      ? `must be ${types.map((e) => String(e.params.type)).join(' or ')}`
      : not !== undefined
        ? `must not be ${JSON.stringify(not)}`
        : `${error.message ?? 'is invalid'}${Array.isArray(allowed) ? ` (${allowed.map(String).join(', ')})` : ''}`;
  return `${path === '' ? 'data' : path} ${reason}`;
}

/** A value that matched its schema, or the path that failed and why. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Compiles `schema` once (at module load, so a mistake in a schema fails at start) into a check of values. */
export function schemaCheck<T>(schema: JSONSchemaType<T>): (value: unknown) => Checked<T> {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? { ok: true, value } : { ok: false, problem: describe(validate.errors ?? []) });
}

/** As schemaCheck, for boundaries with one error type: returns the value itself, typed, or throws `fail(problem)`. */
export function schemaParser<T>(schema: JSONSchemaType<T>, fail: (problem: string) => Error): (value: unknown) => T {
  const check = schemaCheck(schema);
  return (value) => {
    const checked = check(value);
    if (checked.ok) return checked.value;
    throw fail(checked.problem);
  };
}
