import fs from 'node:fs';
import zlib from 'node:zlib';

import { isRecord } from '../../../../core/parse';
import type { SchemaNode } from '../../../../proxy/intake/schema/builders';
import { errorSchema } from '../../../../proxy/intake/schema/error';
import { logSchema } from '../../../../proxy/intake/schema/log';
import { metadataSchema } from '../../../../proxy/intake/schema/metadata';
import { metricsetSchema } from '../../../../proxy/intake/schema/metricset';
import { rumv3ErrorSchema, rumv3MetadataSchema, rumv3TransactionSchema } from '../../../../proxy/intake/schema/rumv3';
import { spanSchema } from '../../../../proxy/intake/schema/span';
import { transactionSchema } from '../../../../proxy/intake/schema/transaction';
import { judgeAndExplain, type LineKind } from '../../../../proxy/intake/validate';
import { ownFixture } from '../../../support/fixtures';

/**
 * Every line is judged by validators split into small functions and, when refused, explained by the whole
 * schema (validate.ts): both must give the same verdict on anything. Checked on the agent's real lines and on a
 * value with every field of each schema, each field mutated in turn into every kind of wrong value.
 */

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

function types(node: SchemaNode): unknown[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** A value with every field the schema knows set to a plausible value of its type. */
function fullValue(node: SchemaNode): unknown {
  if (isRecord(node.properties)) {
    const out: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(node.properties)) if (isRecord(sub)) out[name] = fullValue(sub);
    return out;
  }
  if (isRecord(node.items)) return [fullValue(node.items)];
  if (isRecord(node.additionalProperties)) return { k: fullValue(node.additionalProperties) };
  if (Array.isArray(node.enum)) return node.enum[0];
  const t = types(node);
  if (t.includes('object')) return { a: 1 };
  if (t.includes('integer')) return 1;
  if (t.includes('number')) return 1.5;
  if (t.includes('boolean')) return true;
  return 'x';
}

const wrongValues: readonly unknown[] = [null, 'x', 'y'.repeat(1025), -1, 2 ** 64, Infinity, true, { z: null }, [{}]];

/** The value with the field at `path` replaced (or deleted, for `undefined`). */
function mutated(value: unknown, path: readonly string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    copy[Number(head)] = mutated(copy[Number(head)], rest, replacement);
    return copy;
  }
  if (!isRecord(value)) return value;
  const copy = { ...value };
  if (rest.length === 0 && replacement === undefined) delete copy[head];
  else copy[head] = mutated(copy[head], rest, replacement);
  return copy;
}

function paths(value: unknown, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  const children = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : isRecord(value)
      ? Object.entries(value)
      : [];
  for (const [key, child] of children) {
    out.push([...prefix, key]);
    out.push(...paths(child, [...prefix, key]));
  }
  return out;
}

function agentLines(): Array<[LineKind, unknown]> {
  const own = fs.readFileSync(ownFixture('agent-nodejs', 'intake-v2-events.ndjson'), 'utf8').split('\n');
  const bench = zlib
    .gunzipSync(fs.readFileSync(ownFixture('bench', 'agent-nodejs-traces.ndjson.gz')))
    .toString('utf8')
    .split('\n')
    .slice(0, 8);
  return [...own, ...bench]
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const value: unknown = JSON.parse(line);
      return [Object.keys(value as object)[0] as LineKind, value];
    });
}

describe('split validators judge as the whole schema does', () => {
  const cases: Array<[string, LineKind, unknown]> = [
    ...agentLines().map(([kind, value], i): [string, LineKind, unknown] => [`agent line ${i}`, kind, value]),
    ...Object.entries(schemas).map(([kind, schema]): [string, LineKind, unknown] => [
      `every ${kind} field`,
      kind as LineKind,
      fullValue(schema),
    ]),
  ];

  test.each(cases)('%s, each field mutated', (_name, kind, base) => {
    let accepted = 0;
    let refused = 0;
    const disagreements: string[] = [];
    const judge = (value: unknown, what: string): void => {
      const [judged, explained] = judgeAndExplain(kind, value);
      if (judged) accepted++;
      else refused++;
      if (judged !== explained) disagreements.push(what);
    };
    judge(base, 'as it is');
    paths(base).forEach((path, i) => {
      // Each field gets three of the wrong values (in turn, so every value meets every kind of field) and deletion.
      const replacements = [0, 3, 6].map((offset) => wrongValues[(i + offset) % wrongValues.length]);
      // An object whose known fields are all null is not set (APM Server's IsSet), which only the schema knows.
      const original = path.reduce<unknown>(
        (at, key) => (isRecord(at) || Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined),
        base,
      );
      if (isRecord(original)) replacements.push(Object.fromEntries(Object.keys(original).map((key) => [key, null])));
      for (const replacement of [...replacements, undefined])
        judge(mutated(base, path, replacement), `${path.join('.')} = ${JSON.stringify(replacement)}`);
    });
    expect(disagreements).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });
});
