import http2 from 'node:http2';
import zlib from 'node:zlib';

import { tokenIdentity } from '../../../proxy/auth/secret-tokens';
import { decompressJobBody, parseIntakeJobData } from '../../../queue/contract';
import { testPki } from '../../support/certs';
import { tracesBody } from '../../support/otlp-sdk';
import { eventually, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

const tracePath = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface GrpcAnswer {
  status: string | undefined;
  message: string | undefined;
  body: Buffer;
}

/** One unary call over a fresh HTTP/2 TLS session (ALPN h2), as a gRPC client frames it. */
function call(
  port: number,
  path: string,
  message: Buffer,
  metadata: Record<string, string>,
  gzip = false,
): Promise<GrpcAnswer> {
  const payload = gzip ? zlib.gzipSync(message) : message;
  const prefix = Buffer.alloc(5);
  prefix[0] = gzip ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://localhost:${port}`, { ca: testPki().ca.cert });
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(gzip ? { 'grpc-encoding': 'gzip' } : {}),
      ...metadata,
    });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h: http2.IncomingHttpHeaders) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => (headers = { ...headers, ...t }));
    stream.on('end', () => {
      session.close();
      const grpcStatus = headers['grpc-status'];
      const grpcMessage = headers['grpc-message'];
      resolve({
        status: Array.isArray(grpcStatus) ? grpcStatus[0] : grpcStatus,
        message: typeof grpcMessage === 'string' ? decodeURIComponent(grpcMessage) : undefined,
        body: Buffer.concat(chunks),
      });
    });
    stream.on('error', reject);
    stream.end(Buffer.concat([prefix, payload]));
  });
}

describe('OTLP/gRPC on the TLS intake port (server.otlp.grpc)', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;
  const auth = { authorization: `Bearer ${testToken}` };

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { server: { otlp: { grpc: true } } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  afterEach(async () => {
    proxy.sink.assertNoUnexpectedErrors();
    await proxy.queue.drain();
  });

  it('answers Export with OK (an empty ExportTraceServiceResponse) once the request is queued, gzip messages too', async () => {
    const body = tracesBody('protobuf');
    for (const gzip of [false, true]) {
      const answer = await call(
        proxy.proxy.intake.port,
        tracePath,
        body,
        { ...auth, 'user-agent': 'OTel-OTLP-Exporter-JavaScript/0.223.1' },
        gzip,
      );
      expect(answer).toEqual({ status: '0', message: undefined, body: Buffer.from([0, 0, 0, 0, 0]) });
      const jobs = await proxy.queue.getJobs(['waiting']);
      expect(jobs).toHaveLength(1);
      const data = parseIntakeJobData(jobs[0]?.data);
      expect(data).toMatchObject({
        events: 3,
        otlp: { signal: 'traces', format: 'protobuf' },
        identity: { kind: 'secret_token', id: tokenIdentity(testToken) },
        client: { userAgent: 'OTel-OTLP-Exporter-JavaScript/0.223.1' },
      });
      expect(decompressJobBody(data, 1 << 20)).toEqual(body);
      await proxy.queue.drain();
    }
  });

  it('answers Unauthenticated, InvalidArgument and Unimplemented with nothing queued', async () => {
    const port = proxy.proxy.intake.port;
    expect(await call(port, tracePath, tracesBody('protobuf'), {})).toMatchObject({
      status: '16',
      message: expect.stringMatching(/^authentication failed: missing/) as unknown,
    });
    expect(await call(port, tracePath, tracesBody('protobuf'), { authorization: 'Bearer wrong' })).toMatchObject({
      status: '16',
      message: 'authentication failed',
    });
    expect(await call(port, tracePath, Buffer.from('not protobuf at all'), auth)).toMatchObject({
      status: '3',
      message: expect.stringMatching(/^failed to unmarshal request body/) as unknown,
    });
    expect(
      await call(
        port,
        '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export',
        Buffer.alloc(0),
        auth,
      ),
    ).toMatchObject({ status: '12' });
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
  });

  it('answers a wrong content-type InvalidArgument and an encoding other than gzip Unimplemented', async () => {
    const port = proxy.proxy.intake.port;
    const body = tracesBody('protobuf');
    expect(await call(port, tracePath, body, { ...auth, 'content-type': 'application/json' })).toMatchObject({
      status: '3',
      message: 'content-type must be application/grpc',
    });
    expect(await call(port, tracePath, body, { ...auth, 'grpc-encoding': 'snappy' }, true)).toMatchObject({
      status: '12',
      message: 'message compressed with unsupported encoding snappy',
    });
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
  });

  it('keeps serving HTTP/1.1 (intake v2 and OTLP/HTTP) on the same port', async () => {
    const res = await proxy.request('/v1/traces', {
      method: 'POST',
      headers: { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-protobuf' },
      body: tracesBody('protobuf'),
    });
    expect(res.status).toBe(200);
    const root = await proxy.request('/', { headers: { Authorization: `Bearer ${testToken}` } });
    expect(root.status).toBe(200);
  });
});

describe('OTLP/gRPC backpressure', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      overrides: { server: { otlp: { grpc: true } }, queue: { high_water_mark: { jobs: 1 } } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('answers Unavailable over the high-water mark (gRPC clients retry it)', async () => {
    await proxy.queue.add('intake', { filler: 1 });
    const answer = await eventually(
      async () => {
        const a = await call(proxy.proxy.intake.port, tracePath, tracesBody('protobuf'), {
          authorization: `Bearer ${testToken}`,
        });
        return a.status === '14' ? a : undefined;
      },
      15_000,
      'Unavailable over the high-water mark',
    );
    expect(answer.message).toBe('queue is full');
    proxy.sink.assertNoUnexpectedErrors();
  });
});
