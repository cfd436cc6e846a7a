import zlib from 'node:zlib';

import protobuf from 'protobufjs';

import { tokenIdentity } from '../../../proxy/auth/secret-tokens';
import { decompressJobBody, parseIntakeJobData } from '../../../queue/contract';
import { decodeOtlpRequest, otlpRoot } from '../../../queue/otlp/decode';
import { countItems } from '../../../queue/otlp/model';
import { logsBody, metricsBody, tracesBody } from '../../support/otlp-sdk';
import { eventually, type HttpResult, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

const auth = { Authorization: `Bearer ${testToken}` };
const proto = { 'Content-Type': 'application/x-protobuf' };
const json = { 'Content-Type': 'application/json' };

/** google.rpc.Status, read with protobufjs's wire reader (code = 1, message = 2). */
function readStatus(res: HttpResult): { code: number; message: string } {
  const reader = protobuf.Reader.create(res.raw ?? Buffer.alloc(0));
  const status = { code: 0, message: '' };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) status.code = reader.int32();
    else if (tag >>> 3 === 2) status.message = reader.string();
    else reader.skipType(tag & 7);
  }
  return status;
}

describe('OTLP/HTTP intake (real redis-server, real TLS)', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  afterEach(async () => {
    proxy.sink.assertNoUnexpectedErrors();
    await proxy.queue.drain();
  });

  async function onlyJob(): Promise<ReturnType<typeof parseIntakeJobData>> {
    const jobs = await proxy.queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    return parseIntakeJobData(jobs[0]?.data);
  }

  it('answers 200 with an empty ExportTraceServiceResponse once the protobuf request is queued', async () => {
    const body = tracesBody('protobuf');
    const res = await proxy.request('/v1/traces', {
      method: 'POST',
      headers: { ...auth, ...proto, 'User-Agent': 'OTel-OTLP-Exporter-JavaScript/0.223.1' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    expect(res.raw).toEqual(Buffer.alloc(0));
    const data = await onlyJob();
    expect(data.otlp).toEqual({ signal: 'traces', format: 'protobuf' });
    expect(data.events).toBe(3);
    expect(data.identity).toEqual({ kind: 'secret_token', id: tokenIdentity(testToken) });
    expect(data.client.userAgent).toBe('OTel-OTLP-Exporter-JavaScript/0.223.1');
    expect(decompressJobBody(data, 1 << 20)).toEqual(body);
  });

  it('answers OTLP/JSON with JSON ({}), and keeps a gzip body as the client sent it (by header or sniffed)', async () => {
    const body = zlib.gzipSync(tracesBody('json'));
    const byHeader = await proxy.request('/v1/traces', {
      method: 'POST',
      headers: { ...auth, ...json, 'Content-Encoding': 'gzip' },
      body,
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers['content-type']).toBe('application/json');
    expect(JSON.parse(byHeader.body)).toEqual({});
    const data = await onlyJob();
    expect(data.otlp).toEqual({ signal: 'traces', format: 'json' });
    expect(data.encoding).toBe('gzip');
    expect(Buffer.from(data.body, 'base64')).toEqual(body);
    await proxy.queue.drain();
    const deflated = zlib.deflateSync(logsBody('protobuf'));
    const sniffed = await proxy.request('/v1/logs', { method: 'POST', headers: { ...auth, ...proto }, body: deflated });
    expect(sniffed.status).toBe(200);
    const logs = await onlyJob();
    expect(logs).toMatchObject({ encoding: 'deflate', events: 2, otlp: { signal: 'logs', format: 'protobuf' } });
  });

  it('queues metrics, and answers a partial success for exponential histograms as APM Server does', async () => {
    expect(
      (
        await proxy.request('/v1/metrics', {
          method: 'POST',
          headers: { ...auth, ...proto },
          body: await metricsBody('protobuf'),
        })
      ).status,
    ).toBe(200);
    expect((await onlyJob()).events).toBe(3);
    await proxy.queue.drain();
    const request = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 'g', gauge: { dataPoints: [{ asDouble: 1.5 }] } },
                { name: 'e', exponentialHistogram: { dataPoints: [{ count: '1' }, { count: '2' }] } },
              ],
            },
          ],
        },
      ],
    };
    const type = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
    const res = await proxy.request('/v1/metrics', {
      method: 'POST',
      headers: { ...auth, ...proto },
      body: Buffer.from(type.encode(type.fromObject(request)).finish()),
    });
    expect(res.status).toBe(200);
    const responseType = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
    expect(responseType.toObject(responseType.decode(res.raw ?? Buffer.alloc(0)), { longs: Number })).toEqual({
      partialSuccess: { rejectedDataPoints: 2, errorMessage: 'unsupported data points' },
    });
    const data = await onlyJob();
    expect(countItems(decodeOtlpRequest('metrics', 'protobuf', decompressJobBody(data, 1 << 20)))).toEqual({
      items: 1,
      rejected: 2,
    });
    const asJson = await proxy.request('/v1/metrics', {
      method: 'POST',
      headers: { ...auth, ...json },
      body: JSON.stringify(request),
    });
    expect(JSON.parse(asJson.body)).toEqual({
      partialSuccess: { rejectedDataPoints: '2', errorMessage: 'unsupported data points' },
    });
  });

  it('refuses a missing or wrong token with 401 and a protobuf google.rpc.Status (Unauthenticated)', async () => {
    const missing = await proxy.request('/v1/traces', { method: 'POST', headers: proto, body: tracesBody('protobuf') });
    expect(missing.status).toBe(401);
    expect(missing.headers['content-type']).toBe('application/x-protobuf');
    expect(readStatus(missing)).toEqual({
      code: 16,
      message: expect.stringMatching(
        /^authentication failed: missing or improperly formatted Authorization header/,
      ) as unknown,
    });
    const wrong = await proxy.request('/v1/logs', {
      method: 'POST',
      headers: { ...json, Authorization: 'Bearer nope' },
      body: logsBody('json'),
    });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ code: 16, message: 'authentication failed' });
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
  });

  it('refuses an undecodable body with 400 + InvalidArgument before queueing anything', async () => {
    const garbage = await proxy.request('/v1/traces', {
      method: 'POST',
      headers: { ...auth, ...proto },
      body: Buffer.from('definitely not protobuf'),
    });
    expect(garbage.status).toBe(400);
    expect(readStatus(garbage)).toEqual({
      code: 3,
      message: expect.stringMatching(/^failed to unmarshal request body: /) as unknown,
    });
    const base64Ids = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'AAECAwQFBgcICQoLDA0ODw==', spanId: 'AAECAwQFBgc=' }] }] }],
    });
    const badJson = await proxy.request('/v1/traces', {
      method: 'POST',
      headers: { ...auth, ...json },
      body: base64Ids,
    });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body)).toMatchObject({
      code: 3,
      message: expect.stringContaining('traceId must be 32 hex digits') as unknown,
    });
    const badGzip = await proxy.request('/v1/logs', {
      method: 'POST',
      headers: { ...auth, ...proto, 'Content-Encoding': 'gzip' },
      body: Buffer.from('not gzip'),
    });
    expect(badGzip.status).toBe(400);
    expect(readStatus(badGzip).code).toBe(3);
    const mediaType = await proxy.request('/v1/logs', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/plain' },
      body: 'x',
    });
    expect(mediaType.status).toBe(415);
    const method = await proxy.request('/v1/metrics', { method: 'GET', headers: auth });
    expect(method.status).toBe(400);
    expect(readStatus(method).message).toBe('only POST requests are supported');
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
  });

  it('bounds the decompressed size by server.max_request_size', async () => {
    const small = await ProxyHarness.start({ redis, overrides: { server: { max_request_size: 1024 } } });
    try {
      const bomb = zlib.gzipSync(Buffer.alloc(1 << 20, 0x0a));
      const res = await small.request('/v1/traces', { method: 'POST', headers: { ...auth, ...proto }, body: bomb });
      expect(res.status).toBe(400);
      expect(readStatus(res)).toEqual({ code: 3, message: 'request body exceeded the permitted size.' });
      expect(await small.queue.getJobs(['waiting'])).toHaveLength(0);
      small.sink.assertNoUnexpectedErrors();
    } finally {
      await small.close();
    }
  });
});

describe('OTLP/HTTP backpressure', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { queue: { high_water_mark: { jobs: 2 } } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('answers 503 + Retry-After + Unavailable over the high-water mark (OTLP clients retry it), 200 once drained', async () => {
    for (let i = 0; i < 2; i++) await proxy.queue.add('intake', { filler: i });
    const full = await eventually(
      async () => {
        const res = await proxy.request('/v1/traces', {
          method: 'POST',
          headers: { ...auth, ...proto },
          body: tracesBody('protobuf'),
        });
        return res.status === 503 ? res : undefined;
      },
      15_000,
      'a 503 over the high-water mark',
    );
    expect(full.headers['retry-after']).toBe('5');
    expect(readStatus(full)).toEqual({ code: 14, message: 'queue is full' });
    await proxy.queue.drain();
    await eventually(async () =>
      (
        await proxy.request('/v1/traces', {
          method: 'POST',
          headers: { ...auth, ...proto },
          body: tracesBody('protobuf'),
        })
      ).status === 200
        ? true
        : undefined,
    );
    proxy.sink.assertNoUnexpectedErrors();
  });
});
