import fs from 'node:fs';
import path from 'node:path';

import { groupingKey } from '../../../../forwarder/transform/grouping';
import { type PositionedDocument, transformOtlpRequest } from '../../../../forwarder/transform/otlp';
import { decodeOtlpRequest } from '../../../../queue/otlp/decode';
import type { OtlpSignal } from '../../../../queue/otlp/model';

/**
 * Golden tests of the OTLP mapping: OTLP/JSON requests (fixtures/, written from the mapping rules of
 * elastic/apm-data input/otlp) to the documents under golden/. UPDATE_GOLDEN=1 rewrites them; review the diff.
 */

const here = __dirname;
const ctx = {
  requestId: 'req-1',
  shared: { observer: { type: 'apm-sidecar' } },
  namespace: 'default',
  receivedAtUs: 1_700_000_100_000_000,
};

function documents(signal: OtlpSignal): PositionedDocument[] {
  const body = fs.readFileSync(path.join(here, 'fixtures', `${signal}.json`));
  return transformOtlpRequest(decodeOtlpRequest(signal, 'json', body), ctx);
}

function expectGolden(name: string, docs: PositionedDocument[]): void {
  const file = path.join(here, 'golden', `${name}.json`);
  const actual = `${JSON.stringify(docs, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual);
  expect(JSON.parse(actual)).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
}

function byName(docs: PositionedDocument[], name: string): Record<string, unknown> {
  const found = docs.find((d) => {
    const { transaction, span } = d.doc.source as { transaction?: { name?: string }; span?: { name?: string } };
    return transaction?.name === name || span?.name === name;
  });
  if (found === undefined) throw new Error(`no document named ${name}`);
  return found.doc.source;
}

describe('OTLP -> APM documents', () => {
  it('traces: transactions, spans, span events and links as APM Server writes them', () => {
    const docs = documents('traces');
    expectGolden('traces', docs);
    // Root and SERVER/CONSUMER spans are transactions; the rest spans.
    expect(
      docs
        .filter((d) => d.doc.dataStream === 'traces-apm-default')
        .map((d) => (d.doc.source.processor as { event: string }).event),
    ).toEqual(['transaction', 'span', 'span', 'span', 'span', 'span', 'transaction']);
    expect(byName(docs, 'GET /cart')).toMatchObject({
      transaction: { type: 'request', result: 'HTTP 5xx', duration: { us: 120_000 } },
      event: { outcome: 'failure', success_count: 0 },
      url: { full: 'https://shop.example.com/cart?id=7', path: '/cart', query: 'id=7', domain: 'shop.example.com' },
      agent: { name: 'opentelemetry/nodejs', version: '2.12.1' },
      service: {
        name: 'checkout',
        environment: 'production',
        framework: { name: '@opentelemetry/instrumentation-http' },
      },
      labels: { team: 'payments', http_route: '/cart' },
      numeric_labels: { region_count: 3, cart_items: 3 },
      span: { links: [{ trace: { id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, span: { id: 'bbbbbbbbbbbbbbbb' } }] },
    });
    expect(byName(docs, 'GET')).toMatchObject({
      span: {
        type: 'external',
        subtype: 'http',
        destination: { service: { resource: 'pricing.internal:8443', name: 'https://pricing.internal:8443' } },
      },
      event: { outcome: 'failure' },
      service: { target: { type: 'http', name: 'pricing.internal:8443' } },
      destination: { address: 'pricing.internal', port: 8443 },
    });
    expect(byName(docs, 'SELECT shop.carts')).toMatchObject({
      span: {
        type: 'db',
        subtype: 'postgresql',
        db: { instance: 'shop', statement: 'SELECT * FROM carts WHERE id = $1' },
      },
      service: { target: { type: 'postgresql', name: 'shop' } },
      event: { outcome: 'failure' },
    });
    expect(byName(docs, 'orders publish')).toMatchObject({
      span: {
        type: 'messaging',
        subtype: 'kafka',
        action: 'send',
        message: { queue: { name: 'orders' } },
        destination: { service: { resource: 'kafka/orders' } },
      },
      service: { target: { type: 'kafka', name: 'orders' } },
    });
    expect(byName(docs, 'pricing.Prices/Get')).toMatchObject({
      span: { type: 'external', subtype: 'grpc', destination: { service: { resource: 'pricing.internal:50051' } } },
      service: { target: { type: 'grpc', name: 'pricing.Prices' } },
    });
    expect(byName(docs, 'render cart')).toMatchObject({ span: { type: 'app', subtype: 'internal' } });
    expect(byName(docs, 'orders process')).toMatchObject({
      transaction: { type: 'messaging', result: 'Success', message: { queue: { name: 'orders' } } },
      parent: { id: '00000000000000ff' },
    });
    // The exception event is an error of the DB span; the other event a log of the transaction.
    const error = docs.find((d) => d.doc.dataStream === 'logs-apm.error-default');
    expect(error?.position).toBe('s2.e0');
    expect(error?.doc.source).toMatchObject({
      error: { exception: [{ type: 'Error', message: 'connection reset', handled: true }] },
      parent: { id: '0000000000000003' },
      trace: { id: '5b8efff798038103d269b633813fc60c' },
    });
    const log = docs.find((d) => d.doc.dataStream === 'logs-apm.app.checkout-default');
    expect(log?.doc.source).toMatchObject({
      message: 'cache miss',
      event: { kind: 'event' },
      transaction: { id: '0000000000000001' },
      labels: { cache_key: 'cart:7' },
    });
    // Positions (hence _ids) are stable: a second transform of the same request gives the same ones.
    expect(documents('traces').map((d) => d.position)).toEqual(docs.map((d) => d.position));
  });

  it('computes error.grouping_key as APM Server (its OTLP approval: "*errors.errorString" -> 7f440eedb20ba958)', () => {
    expect(groupingKey({ doc: { type: '*errors.errorString', message: 'kablamo' }, causes: [] }, undefined)).toBe(
      '7f440eedb20ba958',
    );
  });

  it('metrics: data points grouped into metricsets by time and attributes; histograms and summaries typed', () => {
    const docs = documents('metrics');
    expectGolden('metrics', docs);
    const eu = docs.find((d) => (d.doc.source.labels as Record<string, string> | undefined)?.region === 'eu');
    expect(eu?.doc.source).toMatchObject({
      'orders.placed': 5,
      'cart.value': 42.5,
      metricset: { name: 'app' },
      processor: { event: 'metric' },
    });
    expect(eu?.doc.dataStream).toBe('metrics-apm.app.checkout-default');
    const histogram = docs.find((d) => d.doc.source['checkout.duration'] !== undefined);
    expect(histogram?.doc.source['checkout.duration']).toEqual({ values: [5, 550, 1000], counts: [1, 3, 2] });
    expect(histogram?.doc.dynamicTemplates).toEqual({ 'checkout.duration': 'histogram', 'gc.pause': 'summary' });
    expect(histogram?.doc.source['gc.pause']).toEqual({ value_count: 10, sum: 123.5 });
    expect(docs.find((d) => d.doc.source['nodejs.eventloop.delay.avg.ms'] !== undefined)?.doc.dataStream).toBe(
      'metrics-apm.internal-default',
    );
    expect(docs.some((d) => d.doc.source['latency.exp'] !== undefined)).toBe(false);
  });

  it('logs: log records with severity, map bodies as labels, exception attributes as errors, data_stream re-routing', () => {
    const docs = documents('logs');
    expectGolden('logs', docs);
    expect(docs.map((d) => d.doc.dataStream)).toEqual([
      'logs-apm.app.checkout-default',
      'logs-payments-default',
      'logs-apm.app.checkout-default',
    ]);
    expect(docs[0]?.doc.source).toMatchObject({
      message: 'cart loaded',
      log: { level: 'INFO' },
      event: { severity: 9 },
      trace: { id: '5b8efff798038103d269b633813fc60c' },
      span: { id: '0000000000000001' },
    });
    expect(docs[1]?.doc.source).toMatchObject({
      '@timestamp': '2023-11-14T22:13:20.002Z',
      error: { exception: [{ type: 'PaymentError', message: 'card declined' }] },
      event: { kind: 'event', type: 'error' },
    });
    expect(docs[2]?.doc.source).toMatchObject({
      message: '{"step":"validate","attempt":2}',
      labels: { step: 'validate' },
      numeric_labels: { attempt: 2 },
    });
  });
});
