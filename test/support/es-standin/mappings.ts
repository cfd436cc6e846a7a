import { isObject, type JsonObject, matchesGlob } from './json';
import { namedTemplateType, wholeValueTypes } from './named-templates';

/** A per-item indexing failure, shaped as Elasticsearch reports it inside a bulk item. */
export interface ItemError {
  readonly type: string;
  readonly reason: string;
  readonly caused_by?: { readonly type: string; readonly reason: string };
  readonly [extra: string]: unknown;
}

export class DocumentRejected extends Error {
  constructor(
    readonly status: number,
    readonly error: ItemError,
  ) {
    super(error.reason);
  }
}

/** Field path -> mapped type ('object' for inner objects), as an index's mapping holds it. */
export type FieldTypes = Map<string, string>;

/** Flattens `properties` of a mappings object (and its component templates') into dotted paths. */
export function fieldTypesFromMappings(
  mappings: JsonObject | undefined,
  into: FieldTypes = new Map(),
  prefix = '',
): FieldTypes {
  const properties = mappings !== undefined && isObject(mappings['properties']) ? mappings['properties'] : {};
  for (const [name, definition] of Object.entries(properties)) {
    if (!isObject(definition)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const type = typeof definition['type'] === 'string' ? definition['type'] : 'object';
    into.set(path, type);
    if (type === 'object' || type === 'nested') fieldTypesFromMappings(definition, into, path);
  }
  return into;
}

/** The type a dynamic string takes from `dynamic_templates` (match_mapping_type / path_match), else text. */
function dynamicStringType(dynamicTemplates: unknown, path: string): string {
  const list = Array.isArray(dynamicTemplates) ? dynamicTemplates : [];
  for (const entry of list) {
    if (!isObject(entry)) continue;
    for (const rule of Object.values(entry)) {
      if (!isObject(rule) || !isObject(rule['mapping'])) continue;
      const pathOk = typeof rule['path_match'] !== 'string' || matchesGlob(rule['path_match'], path);
      const typeOk =
        rule['match_mapping_type'] === undefined ||
        rule['match_mapping_type'] === 'string' ||
        rule['match_mapping_type'] === '*';
      const mapped = rule['mapping']['type'];
      if (pathOk && typeOk && typeof mapped === 'string') return mapped;
    }
  }
  return 'text';
}

const isoDate = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function dynamicType(value: unknown, path: string, dynamicTemplates: unknown): string | undefined {
  if (typeof value === 'string') return isoDate.test(value) ? 'date' : dynamicStringType(dynamicTemplates, path);
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'float';
  if (typeof value === 'boolean') return 'boolean';
  if (isObject(value)) return 'object';
  return undefined;
}

const integerTypes = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const floatTypes = new Set(['float', 'double', 'half_float', 'scaled_float']);
const stringTypes = new Set(['keyword', 'text', 'wildcard', 'match_only_text', 'constant_keyword', 'ip', 'version']);

function preview(value: unknown): string {
  if (isObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}}`;
  return String(value);
}

/** Why `value` cannot be indexed as `type`, in Elasticsearch's words; undefined when it can. */
function typeMismatch(type: string, value: unknown): string | undefined {
  if (isObject(value))
    return type === 'object' || type === 'nested' || type === 'flattened'
      ? undefined
      : `Expected ${type} but found START_OBJECT`;
  if (integerTypes.has(type)) {
    const ok =
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value));
    return ok ? undefined : `For input string: "${String(value)}"`;
  }
  if (floatTypes.has(type)) {
    const ok =
      typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
    return ok ? undefined : `For input string: "${String(value)}"`;
  }
  if (type === 'date') {
    const ok = typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
    return ok
      ? undefined
      : `failed to parse date field [${String(value)}] with format [strict_date_optional_time||epoch_millis]`;
  }
  if (type === 'boolean') {
    return value === true || value === false || value === 'true' || value === 'false'
      ? undefined
      : `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`;
  }
  return undefined;
}

/**
 * Checks a document against an index's field types and adds the dynamic fields it introduces, the way a
 * mapping update follows a successful index operation (so a later document conflicts with an earlier one).
 */
export function applyDocumentToMapping(
  fields: FieldTypes,
  source: JsonObject,
  id: string,
  dynamicTemplates: unknown,
  named: Readonly<Record<string, string>> = {},
): void {
  const added: Array<[string, string]> = [];
  const compact = JSON.stringify(source);
  const visit = (obj: JsonObject, prefix: string): void => {
    for (const [key, raw] of Object.entries(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (value === null) continue;
        const known = fields.get(path) ?? added.find(([p]) => p === path)?.[1];
        const template = named[path];
        const type =
          known ??
          (template === undefined
            ? dynamicType(value, path, dynamicTemplates)
            : namedTemplateType(dynamicTemplates, template, path, value));
        if (type === undefined) continue;
        if (known === undefined) added.push([path, type]);
        if (wholeValueTypes.has(type)) continue;
        checkValue(type, value, path, id, compact, key);
        if (isObject(value)) visit(value, path);
      }
    }
  };
  visit(source, '');
  for (const [path, type] of added) fields.set(path, type);
}

function checkValue(type: string, value: unknown, path: string, id: string, compact: string, key: string): void {
  const column = compact.indexOf(`${JSON.stringify(key)}:`) + JSON.stringify(key).length + 2;
  if (type === 'object' && !isObject(value)) {
    throw new DocumentRejected(400, {
      type: 'document_parsing_exception',
      reason: `[1:${column}] object mapping for [${path}] tried to parse field [${key}] as object, but found a concrete value`,
    });
  }
  const mismatch = stringTypes.has(type) && !isObject(value) ? undefined : typeMismatch(type, value);
  if (mismatch === undefined) return;
  throw new DocumentRejected(400, {
    type: 'document_parsing_exception',
    reason: `[1:${column}] failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${preview(value)}'`,
    caused_by: { type: 'illegal_argument_exception', reason: mismatch },
  });
}
