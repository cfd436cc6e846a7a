import fs from 'node:fs';
import path from 'node:path';

import { createJobTransformer, type TransformContext } from '../../../../forwarder/transform';
import { sharedFixture } from '../../../support/fixtures';

/**
 * Golden parity against APM Server's approved documents (Elasticsearch `fields` form). Each approved field counts
 * once; it matches when our document, flattened the way Elasticsearch flattens it, holds the same values.
 */

export const fixturesDir = sharedFixture('apm-server');
export const approvals = [
  { name: 'Transactions', input: 'transactions.ndjson' },
  { name: 'Spans', input: 'spans.ndjson' },
  { name: 'Errors', input: 'errors.ndjson' },
  { name: 'Metricsets', input: 'metricsets.ndjson' },
] as const;

export const goldenContext: TransformContext = {
  receivedAt: Date.UTC(2024, 0, 1),
  client: { ip: '127.0.0.1', userAgent: 'apm-agent-go/2.0.0' },
  identity: { kind: 'secret_token', id: '0' },
  namespace: 'default',
};

/**
 * What Elasticsearch or its ingest pipelines add and a writer cannot: keyword `.text` multi-fields, GeoIP lookups,
 * user-agent parsing, and values describing the server that indexed the document.
 */
export function isIgnoredField(field: string): boolean {
  return (
    field.endsWith('.text') ||
    field.startsWith('client.geo.') ||
    (field.startsWith('user_agent.') && field !== 'user_agent.original') ||
    field === 'observer.version' ||
    field === 'observer.hostname'
  );
}

type Flat = Map<string, unknown[]>;

/** Fields whose whole object Elasticsearch returns (flattened / histogram types). */
const objectFields = new Set(['http.request.headers', 'http.response.headers']);

function flatten(value: unknown, prefix: string, out: Flat, approved: ReadonlySet<string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) flatten(item, prefix, out, approved);
    return;
  }
  if (
    typeof value === 'object' &&
    !objectFields.has(prefix) &&
    !(approved.has(prefix) && !approved.has(`${prefix}.`))
  ) {
    for (const [key, child] of Object.entries(value))
      flatten(child, prefix === '' ? key : `${prefix}.${key}`, out, approved);
    return;
  }
  const values = out.get(prefix) ?? [];
  values.push(value);
  out.set(prefix, values);
}

/** Elasticsearch returns a single-element array inside a flattened object as the bare value. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 1 ? normalise(value[0]) : value.map(normalise);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, normalise(v)]),
    );
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function sameValues(ours: unknown[] | undefined, approved: unknown[]): boolean {
  if (ours === undefined || ours.length !== approved.length) return false;
  if (ours.every((v, i) => sameValue(v, approved[i]))) return true;
  const key = (v: unknown): string => JSON.stringify(normalise(v));
  return JSON.stringify(ours.map(key).sort()) === JSON.stringify(approved.map(key).sort());
}

export interface FieldGap {
  readonly field: string;
  readonly approved: unknown[];
  readonly ours: unknown[] | undefined;
}

export interface FileParity {
  readonly name: string;
  readonly matched: number;
  readonly total: number;
  readonly gaps: FieldGap[];
  readonly transformErrors: string[];
}

function compareDoc(
  ours: Flat,
  approved: Record<string, unknown[]>,
): { matched: number; total: number; gaps: FieldGap[] } {
  let matched = 0;
  let total = 0;
  const gaps: FieldGap[] = [];
  for (const [field, values] of Object.entries(approved)) {
    if (isIgnoredField(field)) continue;
    total++;
    if (sameValues(ours.get(field), values)) matched++;
    else gaps.push({ field, approved: values, ours: ours.get(field) });
  }
  return { matched, total, gaps };
}

function isApprovedDoc(value: unknown): value is Record<string, unknown[]> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(Array.isArray)
  );
}

export function readApproved(name: string): Array<Record<string, unknown[]>> {
  const parsed: unknown = JSON.parse(
    fs.readFileSync(path.join(fixturesDir, 'approvals', `${name}.approved.json`), 'utf8'),
  );
  if (!Array.isArray(parsed) || !parsed.every(isApprovedDoc))
    throw new Error(`${name}: approvals are not an array of fields documents`);
  return parsed;
}

export function transformFile(input: string): { docs: Array<Record<string, unknown>>; errors: string[] } {
  const lines = fs
    .readFileSync(path.join(fixturesDir, 'intake-v2', input), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const transformer = createJobTransformer(lines[0] ?? '', goldenContext);
  const docs: Array<Record<string, unknown>> = [];
  const errors: string[] = [];
  for (const line of lines.slice(1)) {
    const result = transformer.transform(line);
    if (result.ok) docs.push(result.doc.source);
    else errors.push(result.reason);
  }
  return { docs, errors };
}

/** Pairs each approved document with the unused produced document that matches it best, then counts fields. */
export function fileParity(name: string, input: string): FileParity {
  const approvedDocs = readApproved(name);
  const { docs, errors } = transformFile(input);
  const approvedFields = new Set(approvedDocs.flatMap((d) => Object.keys(d)));
  const flats = docs.map((doc) => {
    const flat: Flat = new Map();
    flatten(doc, '', flat, approvedFields);
    return flat;
  });
  const used = new Set<number>();
  let matched = 0;
  let total = 0;
  const gaps: FieldGap[] = [];
  for (const approved of approvedDocs) {
    let best: { index: number; result: ReturnType<typeof compareDoc> } | undefined;
    flats.forEach((flat, index) => {
      if (used.has(index)) return;
      const result = compareDoc(flat, approved);
      if (best === undefined || result.matched > best.result.matched) best = { index, result };
    });
    const chosen = best ?? { index: -1, result: compareDoc(new Map(), approved) };
    used.add(chosen.index);
    matched += chosen.result.matched;
    total += chosen.result.total;
    gaps.push(...chosen.result.gaps);
  }
  return { name, matched, total, gaps, transformErrors: errors };
}

export function percent(matched: number, total: number): string {
  return total === 0 ? '100.0' : ((100 * matched) / total).toFixed(1);
}

export function allParity(): { files: FileParity[]; matched: number; total: number } {
  const files = approvals.map((a) => fileParity(a.name, a.input));
  return { files, matched: files.reduce((n, f) => n + f.matched, 0), total: files.reduce((n, f) => n + f.total, 0) };
}

/** The table docs/compatibility.md carries between its parity markers (regenerated by write-parity.ts). */
export function renderParityTable(): string {
  const { files, matched, total } = allParity();
  const rows = files.map((f) => `| ${f.name} | ${f.matched} | ${f.total} | ${percent(f.matched, f.total)}% |`);
  return [
    '| approvals | matched fields | approved fields | parity |',
    '|---|---:|---:|---:|',
    ...rows,
    `| **overall** | **${matched}** | **${total}** | **${percent(matched, total)}%** |`,
  ].join('\n');
}
