import { type ApmDocument, createJobTransformer } from '../../../../forwarder/transform';
import { expandRumV3Job } from '../../../../forwarder/transform/rum/v3-job';
import { rumTraceId, v3Error, v3Metadata, v3Transaction } from '../../../support/rum-payloads';

const receivedAt = Date.UTC(2026, 11, 1, 10, 0, 0);

function documents(): ApmDocument[] {
  const expanded = expandRumV3Job({
    metadata: JSON.stringify(v3Metadata()),
    events: [
      { index: 0, line: JSON.stringify(v3Transaction()) },
      { index: 1, line: JSON.stringify(v3Error()) },
    ],
  });
  const transformer = createJobTransformer(expanded.metadata, {
    receivedAt,
    client: { ip: '198.51.100.20', userAgent: 'Mozilla/5.0 Chrome/156' },
    identity: { kind: 'anonymous' },
    rum: { version: 'v3', source: { ip: '10.0.0.2', port: 41000 } },
    namespace: 'default',
  });
  return expanded.events.map((e) => {
    const result = transformer.transform(e.line);
    if (!result.ok) throw new Error(result.reason);
    return result.doc;
  });
}

const at = (doc: ApmDocument | undefined, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      doc?.source,
    );

describe('RUM v3 events into APM Server documents', () => {
  const docs = documents();
  const [tx, metricset, externalSpan, childSpan, error] = docs;

  it('expands one transaction line into the transaction, its breakdown metricset and its spans, and the error', () => {
    expect(docs.map((d) => [d.dataStream, at(d, 'processor.event')])).toEqual([
      ['traces-apm.rum-default', 'transaction'],
      ['metrics-apm.internal-default', 'metric'],
      ['traces-apm.rum-default', 'span'],
      ['traces-apm.rum-default', 'span'],
      ['logs-apm.error-default', 'error'],
    ]);
  });

  it('maps the short names of metadata and transaction', () => {
    expect(at(tx, 'service')).toMatchObject({
      name: 'shop-frontend',
      version: '1.4.2',
      environment: 'production',
      language: { name: 'javascript' },
    });
    expect(at(tx, 'agent')).toEqual({ name: 'rum-js', version: '5.17.5' });
    expect(at(tx, 'labels')).toEqual({ team: 'web' });
    expect(at(tx, 'network')).toEqual({ connection: { type: '4g' } });
    expect(at(tx, 'transaction.name')).toBe('/checkout');
    expect(at(tx, 'transaction.type')).toBe('page-load');
    expect(at(tx, 'transaction.duration.us')).toBe(812500);
    expect(at(tx, 'transaction.span_count.started')).toBe(2);
    expect(at(tx, 'transaction.marks.agent.timeToFirstByte')).toBe(120);
    expect(at(tx, 'transaction.marks.navigationTiming.responseStart')).toBe(110);
    expect(at(tx, 'transaction.experience')).toMatchObject({
      cls: 0.01,
      tbt: 20,
      longtask: { count: 1, sum: 60, max: 60 },
    });
    expect(at(tx, 'url.full')).toBe('https://shop.example/checkout');
    expect(at(tx, 'trace.id')).toBe(rumTraceId);
  });

  it('takes user agent, client and source from the request, and gives no host.ip', () => {
    for (const doc of docs) {
      expect(at(doc, 'user_agent.original')).toBe('Mozilla/5.0 Chrome/156');
      expect(at(doc, 'client.ip')).toBe('198.51.100.20');
      expect(at(doc, 'source')).toEqual({ ip: '10.0.0.2', port: 41000 });
      expect(at(doc, 'host.ip')).toBeUndefined();
    }
  });

  it("gives spans the transaction's trace and id, the parent by pi, and start as an offset of the receive time", () => {
    expect(at(externalSpan, 'parent.id')).toBe('a1b2c3d4e5f60718');
    expect(at(childSpan, 'parent.id')).toBe('b1b2c3d4e5f60718');
    expect(at(childSpan, 'transaction.id')).toBe('a1b2c3d4e5f60718');
    expect(at(externalSpan, 'trace.id')).toBe(rumTraceId);
    expect(at(externalSpan, 'span')).toMatchObject({
      type: 'external',
      subtype: 'http',
      action: 'GET',
      name: 'GET /api/cart',
    });
    expect(at(externalSpan, 'http.response.status_code')).toBe(200);
    expect(at(externalSpan, 'timestamp.us')).toBe(receivedAt * 1000 + 150200);
  });

  it('turns the breakdown samples (ms) into span.self_time (us) of the transaction', () => {
    expect(at(metricset, 'span.self_time')).toEqual({ count: 1, sum: { us: 80100 } });
    expect(at(metricset, 'transaction')).toEqual({ name: '/checkout', type: 'page-load' });
    expect(at(metricset, 'span.type')).toBe('external');
  });

  it('maps the error with its exception, stack frame and transaction', () => {
    expect(at(error, 'error.exception')).toMatchObject([
      {
        message: 'cart is empty',
        type: 'Error',
        stacktrace: [
          { filename: 'https://shop.example/static/app.min.js', function: 'n', line: { number: 1, column: 120 } },
        ],
      },
    ]);
    expect(at(error, 'transaction')).toEqual({ id: 'a1b2c3d4e5f60718', sampled: true, type: 'page-load' });
    expect(at(error, 'parent.id')).toBe('a1b2c3d4e5f60718');
    expect(at(error, 'error.culprit')).toBe('https://shop.example/static/app.min.js');
  });
});
