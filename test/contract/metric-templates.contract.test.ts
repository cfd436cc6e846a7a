import fs from 'node:fs';
import path from 'node:path';

import { type ApmDocument, createJobTransformer } from '../../forwarder/transform';
import { transformOtlpRequest } from '../../forwarder/transform/otlp';
import { decodeOtlpRequest } from '../../queue/otlp/decode';
import { describeEachTarget } from './targets';

/**
 * Histogram and summary metrics as the forwarder writes them (bulk `dynamic_templates` naming `histogram` /
 * `summary`) against the templates `apm-sidecar setup` installs: every document is indexed. On a cluster without
 * the histogram / aggregate_metric_double types (the integ-test zip) the names still resolve to an object kept in
 * _source; with them (the stand-in models a full cluster) the values are checked as those types check them.
 */

function otlpMetricDocuments(namespace: string): ApmDocument[] {
  const file = path.join(__dirname, '..', 'unit', 'forwarder', 'otlp', 'fixtures', 'metrics.json');
  const request = decodeOtlpRequest('metrics', 'json', fs.readFileSync(file));
  const ctx = { requestId: 'r', shared: { observer: { type: 'apm-sidecar' } }, namespace, receivedAtUs: 1.7e15 };
  return transformOtlpRequest(request, ctx).map((d) => d.doc);
}

function intakeHistogramDocument(namespace: string): ApmDocument {
  const metadata = JSON.stringify({
    metadata: { service: { name: 'svc', agent: { name: 'java', version: '1.50.0' } } },
  });
  const transformer = createJobTransformer(metadata, {
    receivedAt: Date.now(),
    client: { ip: '127.0.0.1', userAgent: 'test' },
    identity: { kind: 'anonymous' },
    namespace,
  });
  const line = JSON.stringify({
    metricset: {
      timestamp: 1_700_000_000_000_000,
      samples: { 'latency.histogram': { type: 'histogram', values: [1.5, 2.5, 10], counts: [3, 4, 1] } },
    },
  });
  const result = transformer.transform(line);
  if (!result.ok) throw new Error(result.reason);
  return result.doc;
}

describeEachTarget('histogram and summary metrics', (kind, ctx) => {
  test('OTLP histograms and summaries and an intake v2 histogram sample are indexed, none refused', async () => {
    const { target, principals } = ctx();
    const namespace = `m${Date.now().toString(36)}${kind}`;
    const docs = [...otlpMetricDocuments(namespace), intakeHistogramDocument(namespace)];
    const templated = docs.filter((d) => d.dynamicTemplates !== undefined);
    const names = new Set(templated.flatMap((d) => Object.values(d.dynamicTemplates ?? {})));
    expect([...names].sort()).toEqual(['histogram', 'summary']);
    const operations = docs.flatMap((d, i) => [
      { create: { _index: d.dataStream, _id: `d${i}`, dynamic_templates: d.dynamicTemplates } },
      d.source,
    ]);
    const writer = target.client(principals.writer);
    const res = await writer.bulk({ operations, require_data_stream: true });
    const refused = res.items
      .map((item) => Object.values(item)[0])
      .filter((item) => item?.error !== undefined)
      .map((item) => `${item?._index}: ${item?.error?.reason}`);
    expect(refused).toEqual([]);
    expect(res.items).toHaveLength(docs.length);
    await writer.close();
  });

  test('a histogram whose values are not in increasing order is refused where the histogram type exists', async () => {
    const { target, principals } = ctx();
    const writer = target.client(principals.writer);
    const res = await writer.bulk({
      require_data_stream: true,
      operations: [
        { create: { _index: `metrics-apm.app.svc-h${kind}`, _id: 'bad', dynamic_templates: { h: 'histogram' } } },
        { '@timestamp': '2026-01-01T00:00:00.000Z', h: { values: [3, 1], counts: [1, 1] } },
      ],
    });
    const item = Object.values(res.items[0] ?? {})[0];
    // The integ-test zip lacks x-pack-analytics: there the value is only kept in _source (201).
    if (target.lacks.has('mapper_extras')) expect(item?.status).toBe(201);
    else expect(item?.status).toBe(400);
    await writer.close();
  });
});
