import fs from 'node:fs';
import path from 'node:path';

import { corpusLines } from '../../../../bench/corpus';
import { prepareDocument } from '../../../../forwarder/output/sink';
import { type ApmDocument, createJobTransformer, type TransformContext } from '../../../../forwarder/transform';
import { expandRumV3Job } from '../../../../forwarder/transform/rum/v3-job';
import { ownFixture, sharedFixture, sharedFixturesPresent } from '../../../support/fixtures';
import { v3Error, v3Metadata, v3Transaction } from '../../../support/rum-payloads';

/**
 * prepareDocument splices the JSON of a job's shared objects (fragments) into each document's bulk lines instead
 * of serializing them again: the lines must be exactly those of a plain JSON.stringify of the source, for every
 * input we have, and no mapper may change a shared object after its JSON was taken.
 */

const backend: TransformContext = {
  receivedAt: Date.UTC(2024, 0, 1),
  client: { ip: '127.0.0.1', userAgent: 'apm-agent-go/2.0.0' },
  identity: { kind: 'secret_token', id: '0' },
  namespace: 'default',
  observer: { version: '9.9.9', hostname: 'test-host' },
};
const rum: TransformContext = {
  receivedAt: Date.UTC(2026, 11, 1, 10, 0, 0),
  client: { ip: '198.51.100.20', userAgent: 'Mozilla/5.0 Chrome/156' },
  identity: { kind: 'anonymous' },
  rum: { version: 'v3', source: { ip: '10.0.0.2', port: 41000 } },
  namespace: 'default',
};

const nonEmpty = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

/** Jobs as [context, metadata line, event lines]: every fixture, the bench corpus in 40-event jobs, edge cases. */
function jobs(): Array<[string, TransformContext, string, string[]]> {
  const out: Array<[string, TransformContext, string, string[]]> = [];
  if (sharedFixturesPresent()) {
    const dir = sharedFixture('apm-server', 'intake-v2');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson') && !f.startsWith('invalid'))) {
      const [metadata = '', ...events] = nonEmpty(fs.readFileSync(path.join(dir, file), 'utf8'));
      out.push([file, backend, metadata, events], [`${file} (RUM)`, rum, metadata, events]);
    }
  }
  const [agentMetadata = '', ...agentEvents] = nonEmpty(
    fs.readFileSync(ownFixture('agent-nodejs', 'intake-v2-events.ndjson'), 'utf8'),
  );
  out.push(['agent-nodejs capture', backend, agentMetadata, agentEvents]);
  const corpus = corpusLines();
  const corpusMetadata = corpus.find((l) => l.startsWith('{"metadata"')) ?? '';
  const corpusEvents = corpus.filter((l) => !l.startsWith('{"metadata"'));
  for (let i = 0; i < corpusEvents.length; i += 40 * 25)
    out.push([`bench corpus from ${i}`, backend, corpusMetadata, corpusEvents.slice(i, i + 40)]);
  const expanded = expandRumV3Job({
    metadata: JSON.stringify(v3Metadata()),
    events: [v3Transaction(), v3Error()].map((e, index) => ({ index, line: JSON.stringify(e) })),
  });
  out.push(['RUM v3', rum, expanded.metadata, expanded.events.map((e) => e.line)]);
  const metadata = JSON.stringify({
    metadata: {
      service: { name: 'svc', version: '1', agent: { name: 'go', version: '2' } },
      user: { id: 'u1' },
      cloud: { provider: 'aws', region: 'eu-west-1' },
      labels: { team: 'a', n: 1 },
      system: { hostname: 'h', container: { id: 'c1' } },
    },
  });
  const overrides = [
    {
      transaction: {
        id: 'a',
        trace_id: 'b',
        type: 't',
        duration: 1,
        span_count: { started: 0 },
        context: { service: { name: 'other', environment: 'e' }, user: { id: 'u2' }, tags: { team: 'b', k: 2 } },
      },
    },
    {
      span: {
        id: 'c',
        trace_id: 'b',
        parent_id: 'a',
        type: 'db.mysql.query',
        duration: 1,
        name: 'q',
        context: { destination: { service: { resource: 'mysql/db' } }, service: { agent: { name: 'x' } } },
      },
    },
    {
      transaction: {
        id: 'd',
        trace_id: 'b',
        type: 't',
        duration: 1,
        span_count: { started: 0 },
        context: {
          custom: { big: 'BIG' },
          cloud: { origin: { provider: 'gcp' } },
        },
      },
    },
    {
      metricset: {
        timestamp: 1,
        samples: { 'latency.histogram': { type: 'histogram', values: [1, 2], counts: [1, 1] } },
      },
    },
    {
      metricset: {
        timestamp: 1,
        service: { name: 'renamed' },
        samples: { 'system.cpu.total.norm.pct': { value: 0.5 } },
      },
    },
    { log: { message: 'hello', '@timestamp': 1, log: { level: 'info' } } },
    {
      error: {
        id: 'e',
        exception: { message: 'boom', type: 'E', attributes: { a: 1 } },
        context: { tags: { x: true } },
      },
    },
  ].map((e) => JSON.stringify(e).replace('"BIG"', '9007199254740993'));
  out.push(['overrides', backend, metadata, overrides], ['overrides (RUM)', rum, metadata, overrides]);
  return out;
}

describe('prepared documents with the job fragments spliced in', () => {
  it.each(jobs())('%s: the bulk lines are those of JSON.stringify of the source', (_name, ctx, metadata, events) => {
    const transformer = createJobTransformer(metadata, ctx);
    const docs: ApmDocument[] = [];
    for (const line of events) {
      const result = transformer.transform(line);
      if (result.ok) docs.push(result.doc);
    }
    expect(docs.length).toBeGreaterThan(0);
    let spliced = 0;
    docs.forEach((doc, i) => {
      const fragments = doc.fragments ?? new Map<object, string>();
      for (const value of Object.values(doc.source))
        if (typeof value === 'object' && value !== null && fragments.has(value)) spliced++;
      const plain = prepareDocument(`id-${i}`, { ...doc, fragments: undefined });
      const withFragments = prepareDocument(`id-${i}`, doc);
      expect(withFragments.lines).toBe(plain.lines);
      expect(withFragments.bytes).toBe(plain.bytes);
    });
    expect(spliced).toBeGreaterThan(0);
    // Once every document is made, each shared object still serializes to the JSON taken when the job began.
    for (const doc of docs)
      for (const [value, json] of doc.fragments ?? new Map<object, string>()) expect(JSON.stringify(value)).toBe(json);
  });

  it('leaves out what JSON.stringify leaves out, and keeps integer-like keys in its order', () => {
    const shared = { a: 1 };
    const fragments = new Map<object, string>([[shared, '{"a":1}']]);
    const source = { z: undefined, s: shared, f: (): void => undefined, '2': 'two', '1': 'one', e: {}, t: shared };
    const spliced = prepareDocument('x', { dataStream: 'ds', source, fragments });
    expect(spliced.lines).toBe(prepareDocument('x', { dataStream: 'ds', source }).lines);
    const onlyUndefined = { dataStream: 'ds', source: { only: undefined } };
    expect(prepareDocument('x', { ...onlyUndefined, fragments }).lines).toBe(prepareDocument('x', onlyUndefined).lines);
  });
});
