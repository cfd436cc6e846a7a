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

export const keywordMaxLength = 1024;

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

export function int(options: { minimum?: number } = {}): SchemaNode {
  return { type: ['integer', 'null'], ...(options.minimum === undefined ? {} : { minimum: options.minimum }) };
}

export function num(options: { minimum?: number } = {}): SchemaNode {
  return { type: ['number', 'null'], ...(options.minimum === undefined ? {} : { minimum: options.minimum }) };
}

export const bool = (): SchemaNode => ({ type: ['boolean', 'null'] });

/** Microseconds since the epoch (APM Server also reads an RFC 3339 string). */
export const timestamp = (): SchemaNode => ({ type: ['number', 'string', 'null'] });

/** Any JSON value (APM Server's interface fields without rules). */
export const anyValue = (): SchemaNode => ({});

/** A free-form object (custom context, cookies, env, attributes). */
export const freeObject = (): SchemaNode => ({ type: ['object', 'null'] });

/** HTTP headers: values are strings or lists of strings. */
export const headers = (): SchemaNode => ({
  type: ['object', 'null'],
  additionalProperties: { type: ['string', 'array', 'null'], items: { type: 'string' } },
});

/** Labels and tags: flat values, string values at most 1024 characters. */
export const labels = (): SchemaNode => ({ type: ['object', 'null'], apmLabels: true });

/** A string or an integer (user.id, exception.code); APM Server checks these as validation rules. */
export function stringOrInt(options: { targetInt?: boolean } = {}): SchemaNode {
  return { apmInputTypes: options.targetInt === true ? 'string;int;targetInt' : 'string;int', maxLength: keywordMaxLength };
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
  return { type: ['array', 'null'], items, ...(elementsRequired === undefined ? {} : { apmElementsSet: elementsRequired }) };
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
