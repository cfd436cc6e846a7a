import { badRequest } from './es-errors';
import { isObject, type JsonObject } from './json';
import type { StoredIndex } from './store';

/** Reads a dotted path out of a document (`service.name`), flattening arrays. */
function valuesAt(source: JsonObject, path: string): unknown[] {
  let current: unknown[] = [source];
  for (const key of path.split('.')) {
    current = current
      .flatMap((v) => (isObject(v) && key in v ? [v[key]] : []))
      .flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [v]));
  }
  const flat = path in source ? [source[path]] : [];
  return [...current, ...flat];
}

function termValue(spec: unknown): unknown {
  return isObject(spec) && 'value' in spec ? spec['value'] : isObject(spec) && 'query' in spec ? spec['query'] : spec;
}

/** Field path -> mapped type of the index being searched ('text' fields match term queries by token). */
type FieldTypes = ReadonlyMap<string, string>;

/** The standard analyzer, roughly: lowercase tokens split at anything not a letter or digit. */
function tokens(value: unknown): string[] {
  return String(value)
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

function valueMatches(
  fields: FieldTypes,
  field: string,
  actual: unknown,
  wanted: unknown,
  analyzeQuery: boolean,
): boolean {
  if (fields.get(field) !== 'text') return String(actual) === String(wanted);
  const have = tokens(actual);
  return analyzeQuery ? tokens(wanted).some((t) => have.includes(t)) : have.includes(String(wanted));
}

/** A small query evaluator: match_all, term, terms, match, exists, ids, bool (must/filter/should/must_not). */
export function matches(
  query: JsonObject | undefined,
  id: string,
  source: JsonObject,
  fields: FieldTypes = new Map(),
): boolean {
  if (query === undefined) return true;
  const [kind, spec] = Object.entries(query)[0] ?? ['match_all', {}];
  const field = isObject(spec) ? (Object.keys(spec)[0] ?? '') : '';
  const fieldSpec = isObject(spec) ? spec[field] : undefined;
  // `name.keyword` of a dynamically mapped string (text + keyword sub-field) compares exactly.
  const subKeyword = field.endsWith('.keyword') && !fields.has(field);
  const path = subKeyword ? field.slice(0, -'.keyword'.length) : field;
  const types: FieldTypes = subKeyword ? new Map() : fields;
  switch (kind) {
    case 'match_all':
      return true;
    case 'term':
    case 'match':
    case 'match_phrase':
      return valuesAt(source, path).some((v) => valueMatches(types, path, v, termValue(fieldSpec), kind !== 'term'));
    case 'terms': {
      const wanted: unknown[] = Array.isArray(fieldSpec) ? fieldSpec : [];
      return valuesAt(source, path).some((v) => wanted.some((w) => valueMatches(types, path, v, w, false)));
    }
    case 'exists':
      return isObject(spec) && typeof spec['field'] === 'string' && valuesAt(source, spec['field']).length > 0;
    case 'ids':
      return isObject(spec) && Array.isArray(spec['values']) && spec['values'].includes(id);
    case 'bool':
      return isObject(spec) && boolMatches(spec, id, source, fields);
    default:
      throw badRequest('parsing_exception', `the stand-in does not implement query [${kind}]`);
  }
}

function clauses(spec: JsonObject, key: string): JsonObject[] {
  const value = spec[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter(isObject);
}

function boolMatches(spec: JsonObject, id: string, source: JsonObject, fields: FieldTypes): boolean {
  const all = [...clauses(spec, 'must'), ...clauses(spec, 'filter')].every((q) => matches(q, id, source, fields));
  const should = clauses(spec, 'should');
  const anyShould = should.length === 0 || should.some((q) => matches(q, id, source, fields));
  const none = clauses(spec, 'must_not').every((q) => !matches(q, id, source, fields));
  return all && anyShould && none;
}

export interface Hit {
  readonly _index: string;
  readonly _id: string;
  readonly _score: number;
  readonly _source: JsonObject;
}

export function findHits(indices: readonly StoredIndex[], query: JsonObject | undefined): Hit[] {
  const hits: Array<Hit & { seq: number }> = [];
  for (const index of indices) {
    for (const [id, doc] of index.docs) {
      if (matches(query, id, doc.source, index.fields))
        hits.push({ _index: index.name, _id: id, _score: 1, _source: doc.source, seq: doc.seqNo });
    }
  }
  return hits.sort((a, b) => a.seq - b.seq).map(({ seq: _seq, ...hit }) => hit);
}

export function shardsHeader(indices: readonly StoredIndex[]): Record<string, number> {
  return { total: indices.length, successful: indices.length, skipped: 0, failed: 0 };
}
