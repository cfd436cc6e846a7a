import fs from 'node:fs';

import { decodeOtlpRequest, OtlpDecodeError } from '../../../queue/otlp/decode';
import { countItems, type OtlpRequest, type Span } from '../../../queue/otlp/model';
import { descriptorFile, renderOtlpDescriptor } from '../../../scripts/render-otlp-descriptor';
import { logsBody, metricsBody, sdkMetrics, sdkSpans, tracesBody } from '../../support/otlp-sdk';

function spansOf(request: OtlpRequest): Span[] {
  if (request.signal !== 'traces') throw new Error('not traces');
  return request.resources.flatMap((r) => r.scopes.flatMap((s) => [...s.items]));
}

describe('OTLP request decoding (bodies from the OpenTelemetry JS SDK serializers)', () => {
  it('queue/otlp/descriptor.ts matches the vendored .proto files (run `npm run docs`)', () => {
    expect(fs.readFileSync(descriptorFile, 'utf8')).toBe(renderOtlpDescriptor());
  });

  it('reads the same spans from protobuf and from OTLP/JSON, ids as hex', () => {
    const spans = sdkSpans();
    const fromProto = decodeOtlpRequest('traces', 'protobuf', tracesBody('protobuf', spans));
    const fromJson = decodeOtlpRequest('traces', 'json', tracesBody('json', spans));
    expect(fromJson).toEqual(fromProto);
    const decoded = spansOf(fromProto);
    expect(decoded.map((s) => s.spanId).sort()).toEqual(spans.map((s) => s.spanContext().spanId).sort());
    const server = decoded.find((s) => s.name === 'GET /cart');
    const original = spans.find((s) => s.name === 'GET /cart');
    expect(server?.traceId).toBe(original?.spanContext().traceId);
    expect(server?.parentSpanId).toBe('');
    expect(server?.kind).toBe(2);
    expect(server?.attributes.get('http.response.status_code')).toBe(200);
    expect(server?.attributes.get('url.path')).toBe('/cart');
    const db = decoded.find((s) => s.name === 'SELECT carts');
    expect(db?.parentSpanId).toBe(original?.spanContext().spanId);
    expect(db?.events[0]?.name).toBe('exception');
    expect(db?.events[0]?.attributes.get('exception.type')).toBe('TypeError');
    // fixed64 nanoseconds survive whole (a double would round them).
    const [seconds, nanoseconds] = original?.startTime ?? [0, 0];
    expect(server?.startTimeUnixNano).toBe(BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds));
    expect(fromProto.resources[0]?.resource.attributes.get('service.name')).toBe('otlp-checkout');
    expect(fromProto.resources[0]?.scopes[0]?.scope).toMatchObject({
      name: 'checkout-instrumentation',
      version: '0.9.0',
    });
    expect(countItems(fromProto)).toEqual({ items: 3, rejected: 0 });
  });

  it('reads metrics and logs from both formats alike', async () => {
    const collected = await sdkMetrics();
    const metrics = decodeOtlpRequest('metrics', 'protobuf', await metricsBody('protobuf', collected));
    expect(decodeOtlpRequest('metrics', 'json', await metricsBody('json', collected))).toEqual(metrics);
    const kinds =
      metrics.signal === 'metrics'
        ? metrics.resources.flatMap((r) => r.scopes.flatMap((s) => s.items.map((m) => `${m.name}:${m.data.kind}`)))
        : [];
    expect(kinds.sort()).toEqual(['checkout.duration:histogram', 'orders.placed:sum', 'queue.depth:gauge']);
    expect(countItems(metrics)).toEqual({ items: 3, rejected: 0 });
    const logs = decodeOtlpRequest('logs', 'protobuf', logsBody('protobuf'));
    const logsJson = decodeOtlpRequest('logs', 'json', logsBody('json'));
    // Each call emits new records with new timestamps: compare all but the times.
    const strip = (r: OtlpRequest): unknown =>
      r.signal === 'logs'
        ? r.resources.flatMap((x) =>
            x.scopes.flatMap((s) => s.items.map((l) => [l.severityNumber, l.severityText, l.body, [...l.attributes]])),
          )
        : [];
    expect(strip(logsJson)).toEqual(strip(logs));
    expect(strip(logs)).toEqual([
      [9, 'INFO', 'cart loaded', [['cart.id', 'c-1']]],
      [
        17,
        'ERROR',
        'payment failed',
        [
          ['exception.type', 'PaymentError'],
          ['exception.message', 'card declined'],
        ],
      ],
    ]);
  });

  it('reads AnyValue of every kind and counts exponential histograms as rejected', () => {
    const body = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'a',
                  gauge: {
                    dataPoints: [
                      {
                        asInt: '7',
                        timeUnixNano: '1700000000000000000',
                        attributes: [
                          { key: 'k', value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } } },
                          { key: 'm', value: { kvlistValue: { values: [{ key: 'n', value: { boolValue: true } }] } } },
                          { key: 'b', value: { bytesValue: 'AQI=' } },
                        ],
                      },
                    ],
                  },
                },
                { name: 'e', exponentialHistogram: { dataPoints: [{}, {}] } },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeOtlpRequest('metrics', 'json', Buffer.from(JSON.stringify(body)));
    expect(countItems(decoded)).toEqual({ items: 1, rejected: 2 });
    const metric = decoded.signal === 'metrics' ? decoded.resources[0]?.scopes[0]?.items[0] : undefined;
    const point = metric?.data.kind === 'gauge' ? metric.data.points[0] : undefined;
    expect(point?.value).toBe(7);
    expect(point?.attributes.get('k')).toEqual([1, 'x']);
    expect(point?.attributes.get('m')).toEqual(new Map([['n', true]]));
    expect(point?.attributes.get('b')).toEqual(Buffer.from([1, 2]));
  });

  it.each([
    ['protobuf garbage', 'protobuf', Buffer.from('this is not protobuf at all')],
    ['JSON that does not parse', 'json', Buffer.from('{"resourceSpans": [')],
    [
      'a JSON span whose id is base64, not hex',
      'json',
      Buffer.from(
        JSON.stringify({
          resourceSpans: [
            { scopeSpans: [{ spans: [{ traceId: 'AAAAAAAAAAAAAAAAAAAAAA==', spanId: '0102030405060708' }] }] },
          ],
        }),
      ),
    ],
    ['a JSON field of the wrong type', 'json', Buffer.from(JSON.stringify({ resourceSpans: { scopeSpans: [] } }))],
  ] as const)('refuses %s with OtlpDecodeError', (_name, format, body) => {
    expect(() => decodeOtlpRequest('traces', format, body)).toThrow(OtlpDecodeError);
  });
});
