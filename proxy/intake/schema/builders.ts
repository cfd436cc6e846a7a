/**
 * Small builders for the intake v2 JSON schemas. They encode APM Server's decoding model once, so the event
 * schemas read like its field list:
 * - every field may be null (APM Server's nullable types), and unknown fields are ignored;
 * - "required" means *set*: present, not null and, for an object, with at least one known field set
 *   (the `apmRequired` keyword in keywords.ts), which is why `{"metadata":{"user":null}}` lacks 'metadata';
 * - keywords are at most 1024 characters (counted in code points, as Go's utf8.RuneCountInString).
 */

export interface SchemaNode {
  readonly [keyword: string]: unknown;
}

const keywordMaxLength = 1024;

/** A nullable string; keyword fields (the default) are limited to 1024 characters. */
export function str(options: { maxLength?: number | null; minLength?: number; pattern?: string } = {}): SchemaNode {
  const maxLength = options.maxLength === undefined ? keywordMaxLength : options.maxLength;
  return {
    type: ['string', 'null'],
    ...(maxLength === null ? {} : { maxLength }),
    ...(options.minLength === undefined ? {} : { minLength: options.minLength }),
    ...(options.pattern === undefined ? {} : { pattern: options.pattern }),
  };
}

/** A free-text string (no length limit: messages, statements, stack lines). */
export const text = (): SchemaNode => str({ maxLength: null });

/**
 * APM Server decodes integers as Go int64 ("ReadInt64: overflow" beyond it); JavaScript numbers go further, so
 * the bound is explicit. validate.ts words a broken exclusive bound as that decode error.
 */
const int64Bounds = { exclusiveMaximum: 2 ** 63, exclusiveMinimum: -(2 ** 63) } as const;

export function int(options: { minimum?: number } = {}): SchemaNode {
  return {
    type: ['integer', 'null'],
    ...int64Bounds,
    ...(options.minimum === undefined ? {} : { minimum: options.minimum }),
  };
}

/**
 * A float64. ajv's multi-type check lets Infinity (JSON.parse's `1e400`) through, so the finite range is
 * explicit (compiled inline: two comparisons); validate.ts words a non-finite value as Go's "out of range".
 */
export function num(options: { minimum?: number } = {}): SchemaNode {
  return { type: ['number', 'null'], maximum: Number.MAX_VALUE, minimum: options.minimum ?? -Number.MAX_VALUE };
}

export const bool = (): SchemaNode => ({ type: ['boolean', 'null'] });

/**
 * The last microsecond of year 9999 a float64 holds. Elasticsearch's default date format has four-digit years, and a later
 * date cannot be written as one: the forwarder could not index the event, so the proxy refuses it (APM
 * Server takes any int64 and the document then fails in Elasticsearch).
 */
const maxTimestampUs = 253402300799999968;

/** Microseconds since the epoch, an int64 for APM Server (it also reads an RFC 3339 string). */
export const timestamp = (): SchemaNode => ({
  type: ['number', 'string', 'null'],
  ...int64Bounds,
  maximum: maxTimestampUs,
});

/** Any JSON value (APM Server's interface fields without rules); apmBounded: json-bounds.ts. */
export const anyValue = (): SchemaNode => ({ apmBounded: true });

/** A free-form object (custom context, cookies, env, attributes). */
export const freeObject = (): SchemaNode => ({ type: ['object', 'null'], apmBounded: true });

/** HTTP headers: values are strings or lists of strings. */
export const headers = (): SchemaNode => ({
  type: ['object', 'null'],
  additionalProperties: { type: ['string', 'array', 'null'], items: { type: 'string' } },
});

/** Labels and tags: flat values, string values at most 1024 characters. */
export const labels = (): SchemaNode => ({ type: ['object', 'null'], apmLabels: true, apmBounded: true });

/** A string or an integer (user.id, exception.code); APM Server checks these as validation rules. */
export function stringOrInt(options: { targetInt?: boolean } = {}): SchemaNode {
  return {
    apmInputTypes: options.targetInt === true ? 'string;int;targetInt' : 'string;int',
    maxLength: keywordMaxLength,
  };
}

export interface ObjectRules {
  /** Fields that must be set. */
  readonly required?: readonly string[];
  /** At least one of these fields must be set. */
  readonly anyOf?: readonly string[];
  /** `{ a: ['b', 'c'] }`: a is required when b or c is set. */
  readonly requiredIfAny?: Readonly<Record<string, readonly string[]>>;
}

export function obj(properties: Readonly<Record<string, SchemaNode>>, rules: ObjectRules = {}): SchemaNode {
  return {
    type: ['object', 'null'],
    properties,
    ...(rules.anyOf === undefined ? {} : { apmAnyOf: rules.anyOf }),
    ...(rules.required === undefined ? {} : { apmRequired: rules.required }),
    ...(rules.requiredIfAny === undefined ? {} : { apmRequiredIfAny: rules.requiredIfAny }),
  };
}

/** A list; `elementsRequired` names it for APM Server's "<name> slice element required" rule. */
export function arr(items: SchemaNode, elementsRequired?: string): SchemaNode {
  return {
    type: ['array', 'null'],
    items,
    ...(elementsRequired === undefined ? {} : { apmElementsSet: elementsRequired }),
  };
}

/** A map from free keys to one schema (metricset samples). */
export function mapOf(values: SchemaNode, keyPattern?: string): SchemaNode {
  return {
    type: ['object', 'null'],
    additionalProperties: values,
    ...(keyPattern === undefined ? {} : { propertyNames: { pattern: keyPattern } }),
  };
}

/** The root object of one intake line: `{"<key>": {...}}` with the event required. */
export function root(key: string, event: SchemaNode): SchemaNode {
  return { type: 'object', properties: { [key]: event }, apmRequired: [key] };
}

export const patterns = {
  patternAlphaNumericExt: '^[a-zA-Z0-9 _-]+$',
  /** context.service.name: APM Server skips the pattern for an empty string. */
  patternAlphaNumericExtOrEmpty: '^[a-zA-Z0-9 _-]*$',
  patternNoAsteriskQuote: '^[^*"]*$',
} as const;

/** The rule name APM Server prints for each pattern ("validation rule 'pattern(<name>)' violated"). */
export const patternNames: ReadonlyMap<string, string> = new Map([
  [patterns.patternAlphaNumericExt, 'patternAlphaNumericExt'],
  [patterns.patternAlphaNumericExtOrEmpty, 'patternAlphaNumericExt'],
  [patterns.patternNoAsteriskQuote, 'patternNoAsteriskQuote'],
]);

export const enumOutcome = ['success', 'failure', 'unknown', '', null];
