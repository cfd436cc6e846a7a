import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

import { overflowingToken } from './json-bounds';
import { patternNames, type SchemaNode } from './schema/builders';
import { errorSchema } from './schema/error';
import { addApmKeywords } from './schema/keywords';
import { logSchema } from './schema/log';
import { metadataSchema } from './schema/metadata';
import { metricsetSchema } from './schema/metricset';
import { rumv3ErrorSchema, rumv3MetadataSchema, rumv3TransactionSchema } from './schema/rumv3';
import { spanSchema } from './schema/span';
import { splitLarge } from './schema/split';
import { transactionSchema } from './schema/transaction';

/**
 * Intake v2 line validation against our own schemas (schema/), each compiled once (see Validators). Failures are
 * worded as APM Server words them: a wrong JSON type is a "decode error: data read error: ..." naming the
 * field path the way APM Server's Go decoder does; a broken rule is "validation error: <path>: <rule>".
 */

type EventKind = 'transaction' | 'span' | 'error' | 'metricset' | 'log';
/** RUM v3 (minified) lines: metadata `m`, transaction `x`, error `e`. */
type RumV3Kind = 'm' | 'x' | 'e';
export type LineKind = EventKind | 'metadata' | RumV3Kind;

/** Go type names APM Server's decoder prints in decode errors. */
const goTypeNames: Readonly<Record<LineKind, string>> = {
  metadata: 'metadata',
  transaction: 'transaction',
  span: 'span',
  error: 'errorEvent',
  metricset: 'metricset',
  log: 'log',
  m: 'metadata',
  x: 'transaction',
  e: 'errorEvent',
};

const schemas: Readonly<Record<LineKind, SchemaNode>> = {
  metadata: metadataSchema,
  transaction: transactionSchema,
  span: spanSchema,
  error: errorSchema,
  metricset: metricsetSchema,
  log: logSchema,
  m: rumv3MetadataSchema,
  x: rumv3TransactionSchema,
  e: rumv3ErrorSchema,
};

/**
 * One set of validators over the schemas, each compiled on first use and kept: a compiled schema is 50-500 ms
 * of CPU at start and stays resident (its generated source and code), so a proxy compiles only what it runs.
 */
function validators(mode: 'judge' | 'explain'): (kind: LineKind) => ValidateFunction {
  const compiled: Partial<Record<LineKind, ValidateFunction>> = {};
  let ajv: Ajv | undefined;
  const compile = (kind: LineKind): ValidateFunction => {
    ajv ??= addApmKeywords(new Ajv({ allErrors: mode === 'explain', strict: false, unicodeRegExp: false }));
    return ajv.compile(mode === 'judge' ? splitLarge(schemas[kind]) : schemas[kind]);
  };
  return (kind) => (compiled[kind] ??= compile(kind));
}

/**
 * Two sets of validators over the same schemas. `judge`: split into functions V8 can optimize (schema/split.ts),
 * stopping at the first failure; every line runs it. The intake v2 judges are compiled at module load, so the
 * first request does not wait for them; the RUM v3 ones when the RUM routes are made (server.rum.enabled,
 * prepareRumV3Validators). `explain`: each schema whole, with allErrors, run only on a line `judge` refused, for
 * APM Server's message: the type errors (reported first, as decode errors) even when a rule on another field
 * also fails; each is compiled at the first refusal of its kind (an answer that is an error anyway).
 */
const judge = validators('judge');
const explainer = validators('explain');
for (const kind of ['metadata', 'transaction', 'span', 'error', 'metricset', 'log'] as const) judge(kind);

/** Compiles the RUM v3 judges now, so the first RUM request does not wait for them. */
export function prepareRumV3Validators(): void {
  for (const kind of ['m', 'x', 'e'] as const) judge(kind);
}

/** Validates one parsed line; null when valid, else APM Server's message for the first failure. */
export function validateLine(kind: LineKind, value: unknown, line = ''): string | null {
  if (judge(kind)(value)) return null;
  const validate = explainer(kind);
  // Both judge by the same rules; the explainer only finds every error of a line the judge refused.
  if (validate(value)) return null;
  return describeErrors(kind, validate.errors ?? [], value, line);
}

/** The value an error's instancePath (a JSON pointer) points at. */
function valueAt(root: unknown, pointer: string): unknown {
  let at: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (at === null || typeof at !== 'object') return undefined;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** Go's message for a number beyond float64 (strconv.ParseFloat's ErrRange), naming the line's token. */
function outOfRange(line: string): string {
  return `strconv.ParseFloat: parsing ${JSON.stringify(overflowingToken(line))}: value out of range`;
}

/** The property names along an error's schema path (array items and map values contribute none). */
function fieldPath(error: ErrorObject): string[] {
  const tokens = error.schemaPath.split('/');
  const names: string[] = [];
  for (let i = 0; i < tokens.length - 1; i++) {
    const next = tokens[i + 1];
    if (tokens[i] === 'properties' && next !== undefined) {
      names.push(next.replace(/~1/g, '/').replace(/~0/g, '~'));
      i++;
    }
  }
  return names;
}

function describeErrors(kind: LineKind, errors: readonly ErrorObject[], value: unknown, line: string): string {
  const bounded = errors.find((e) => e.keyword === 'apmBounded');
  if (bounded !== undefined) {
    return describeTypeError(
      kind,
      bounded,
      bounded.message === 'depth' ? 'incrementDepth: exceeded max depth' : outOfRange(line),
    );
  }
  const nonFinite = errors.find(
    (e) => (e.keyword === 'maximum' || e.keyword === 'minimum') && !Number.isFinite(valueAt(value, e.instancePath)),
  );
  if (nonFinite !== undefined) return describeTypeError(kind, nonFinite, outOfRange(line));
  const typeError = errors.find((e) => e.keyword === 'type');
  if (typeError !== undefined) return describeTypeError(kind, typeError, readerMessage(typeError.params.type));
  const overflow = errors.find((e) => e.keyword === 'exclusiveMaximum' || e.keyword === 'exclusiveMinimum');
  if (overflow !== undefined) return describeTypeError(kind, overflow, 'ReadInt64: overflow');
  const ruleError =
    errors.find((e) => !(e.keyword === 'pattern' && e.schemaPath.includes('/propertyNames/'))) ?? errors[0];
  if (ruleError === undefined) return 'validation error: invalid event';
  return `validation error: ${describeRule(ruleError)}`;
}

function describeRule(error: ErrorObject): string {
  const path = fieldPath(error);
  const field = path[path.length - 1] ?? '';
  const prefixOf = (segments: readonly string[]): string => segments.map((s) => `${s}: `).join('');
  const leafRule = (rule: string): string =>
    `${prefixOf(path.slice(0, -1))}'${field}': validation rule '${rule}' violated`;
  const params: Record<string, unknown> = error.params;
  switch (error.keyword) {
    case 'maxLength':
    case 'minLength':
      return leafRule(`${error.keyword}(${String(params.limit)})`);
    case 'minimum':
      return leafRule(`min(${String(params.limit)})`);
    case 'maximum': {
      const limit = params.limit;
      // Beyond 2^53 String() rounds the digits; BigInt prints the float64 the bound really is.
      return leafRule(
        `max(${typeof limit === 'number' && Number.isInteger(limit) ? BigInt(limit).toString() : String(limit)})`,
      );
    }
    case 'enum':
      return leafRule('enum(enumOutcome)');
    case 'pattern':
      return leafRule(`pattern(${patternNames.get(String(params.pattern)) ?? String(params.pattern)})`);
    case 'propertyNames':
      return leafRule('patternKeys(patternNoAsteriskQuote)');
    case 'apmLabels':
    case 'apmInputTypes':
      return `${prefixOf(path.slice(0, -1))}'${field}': ${error.message ?? ''}`;
    case 'apmElementsSet':
      return `${prefixOf(path.slice(0, -1))}${error.message ?? ''}`;
    default:
      return `${prefixOf(path)}${error.message ?? error.keyword}`;
  }
}

/** snake_case / dotted JSON name -> the Go field name APM Server's structs use (id -> ID, trace_id -> TraceID). */
function goFieldName(jsonName: string): string {
  return jsonName
    .split(/[._@]/)
    .filter((part) => part !== '')
    .map((part) =>
      /^(id|url|http|ip|uid|ms|us)$/.test(part) ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1),
    )
    .join('');
}

/** The Go field of a v3 line's root key (deeper short keys are named by goFieldName, close but not exact). */
const rumv3RootFields: Readonly<Record<LineKind, string>> = {
  ...goTypeNames,
  m: 'Metadata',
  x: 'Transaction',
  e: 'Error',
};

function readerMessage(expected: unknown): string {
  const types = String(expected).split(',');
  if (types.includes('string')) return 'ReadString: expects " or n,';
  if (types.includes('object')) return 'ReadMapCB: expect { or n,';
  if (types.includes('array')) return 'ReadArrayCB: expect [ or n,';
  if (types.includes('boolean')) return 'ReadBool: expect t or f,';
  if (types.includes('integer')) return 'ReadInt64: unexpected character';
  return 'ReadFloat64: unexpected character';
}

/**
 * `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.ID: ReadString: expects " or n,`
 * exactly for fields of the event object; deeper Go type names are derived the way most of APM Server's are
 * (parent type + field), which is close but not always its exact name.
 */
function describeTypeError(kind: LineKind, error: ErrorObject, reader: string): string {
  const path = fieldPath(error);
  const parts: string[] = [];
  const v3 = kind === 'm' || kind === 'x' || kind === 'e';
  const pkg = v3 ? 'rumv3' : 'v2';
  let goType = `${v3 ? goTypeNames[kind] : kind}Root`;
  for (let i = 0; i < path.length; i++) {
    const field = v3 && i === 0 ? rumv3RootFields[kind] : goFieldName(path[i] ?? '');
    parts.push(`${pkg}.${goType}.${field}`);
    goType = i === 0 ? goTypeNames[kind] : `${goType}${field}`;
  }
  if (parts.length === 0) parts.push(`${pkg}.${goType}`);
  return `decode error: data read error: ${parts.join(': ')}: ${reader}`;
}

/** Both validators' verdicts on one value (their agreement is what the split must keep). */
export function judgeAndExplain(kind: LineKind, value: unknown): readonly [boolean, boolean] {
  return [judge(kind)(value), explainer(kind)(value)];
}
