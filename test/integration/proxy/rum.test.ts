import zlib from 'node:zlib';

import { decodeJobBody, type IntakeJobData, parseIntakeJobData } from '../../../queue/contract';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { ndjson, v2Metadata, v2Transaction, v3Error, v3Metadata, v3Transaction } from '../../support/rum-payloads';

const origin = 'https://shop.example';
const browser = {
  Origin: origin,
  'Content-Type': 'application/x-ndjson',
  Accept: 'application/json',
  'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0',
};
const v3Body = ndjson([v3Metadata(), v3Transaction(), v3Error()]);

describe('RUM intake (real redis-server, real TLS)', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  const jobs = async (): Promise<IntakeJobData[]> =>
    (await proxy.queue.getJobs(['waiting'])).map((j) => parseIntakeJobData(j.data));

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      overrides: {
        server: {
          rum: {
            enabled: true,
            allow_origins: ['https://shop.example', 'https://*.shop.example'],
            allow_headers: ['X-Trace'],
            response_headers: { 'X-Frame-Options': 'DENY' },
          },
          auth: { anonymous: { rate_limit: { event_limit: 5, ip_limit: 100 } } },
          trusted_proxies: ['127.0.0.1/32'],
        },
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  beforeEach(async () => proxy.queue.drain());
  afterEach(() => proxy.sink.assertNoUnexpectedErrors());

  it('queues an anonymous v3 request from an allowed origin with rum, v3, user agent, client and source ip', async () => {
    const res = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '198.51.100.20' },
      body: zlib.gzipSync(v3Body),
    });
    expect(res.status).toBe(202);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(res.headers['x-frame-options']).toBe('DENY');
    const [job, ...rest] = await jobs();
    expect(rest).toHaveLength(0);
    expect(job?.identity).toEqual({ kind: 'anonymous' });
    expect(job?.client).toEqual({ ip: '198.51.100.20', userAgent: browser['User-Agent'] });
    expect(job?.rum?.version).toBe('v3');
    expect(job?.rum?.source.ip).toBe('127.0.0.1');
    expect(job?.rum?.source.port).toBeGreaterThan(0);
    expect(job?.events).toBe(2);
    const decoded = job === undefined ? undefined : decodeJobBody(job, 1 << 20);
    expect(decoded?.metadata).toBe(JSON.stringify(v3Metadata()));
  });

  it('queues a v2 RUM request and keeps the secret-token path working on the RUM routes', async () => {
    const body = ndjson([v2Metadata(), v2Transaction()]);
    expect((await proxy.request('/intake/v2/rum/events', { method: 'POST', headers: browser, body })).status).toBe(202);
    const withToken = await proxy.request('/intake/v2/rum/events', {
      method: 'POST',
      headers: { ...browser, Authorization: `Bearer ${testToken}` },
      body,
    });
    expect(withToken.status).toBe(202);
    const bad = await proxy.request('/intake/v2/rum/events', {
      method: 'POST',
      headers: { ...browser, Authorization: 'Bearer wrong' },
      body,
    });
    expect(bad.status).toBe(401);
    const identities = (await jobs()).map((j) => j.identity.kind).sort();
    expect(identities).toEqual(['anonymous', 'secret_token']);
    expect((await jobs()).every((j) => j.rum?.version === 'v2')).toBe(true);
  });

  it('answers a preflight with exactly the CORS headers and no body', async () => {
    const res = await proxy.request('/intake/v3/rum/events', {
      method: 'OPTIONS',
      headers: { Origin: 'https://www.shop.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': 'https://www.shop.example',
      'access-control-max-age': '3600',
      vary: 'Origin',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'X-Trace, Content-Type, Content-Encoding, Accept',
      'access-control-expose-headers': 'Etag',
      'x-frame-options': 'DENY',
    });
  });

  it('refuses an origin not allowed with 403 before reading the body, and queues nothing', async () => {
    const res = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, Origin: 'https://evil.example' },
      body: v3Body,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: "forbidden request: origin: 'https://evil.example' is not allowed" });
    expect(await jobs()).toHaveLength(0);
    const preflight = await proxy.request('/intake/v3/rum/events', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses an anonymous agent outside allow_agent with 403 and queues nothing; a token may send it', async () => {
    const body = ndjson([v3Metadata({ agent: 'java' }), v3Transaction()]);
    const res = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '198.51.100.21' },
      body,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({
      accepted: 0,
      errors: [
        {
          message: 'forbidden request: anonymous access not permitted for agent "java"',
          document: JSON.stringify(v3Metadata({ agent: 'java' })),
        },
      ],
    });
    expect(await jobs()).toHaveLength(0);
    const withToken = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, Authorization: `Bearer ${testToken}` },
      body,
    });
    expect(withToken.status).toBe(202);
  });

  it('rate-limits an anonymous flood from one IP with 429 while a second IP is still served', async () => {
    // event_limit 5/s, burst 15: the request takes 1 token, the first batch of 10 fits, the second would wait > 1 s
    const many = ndjson([
      v3Metadata(),
      ...Array.from({ length: 40 }, (_, i) => ({ e: { ...(v3Error().e as object), id: `err${i}` } })),
    ]);
    const flood = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '203.0.113.1' },
      body: many,
    });
    expect(flood.status).toBe(429);
    expect(JSON.parse(flood.body)).toEqual({ accepted: 10, errors: [{ message: 'rate limit exceeded' }] });
    const [partial] = await jobs();
    expect(partial?.events).toBe(10);
    expect(
      partial === undefined
        ? []
        : decodeJobBody(partial, 1 << 20).events.map((e) => (JSON.parse(e.line) as { e: { id: string } }).e.id),
    ).toEqual(Array.from({ length: 10 }, (_, i) => `err${i}`));
    // a few tokens are left; each request takes one, so soon one is refused before its body is read
    const metadataOnly = ndjson([v3Metadata()]);
    let again = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '203.0.113.1' },
      body: metadataOnly,
    });
    for (let i = 0; i < 30 && again.status === 202; i++) {
      again = await proxy.request('/intake/v3/rum/events', {
        method: 'POST',
        headers: { ...browser, 'X-Forwarded-For': '203.0.113.1' },
        body: metadataOnly,
      });
    }
    expect(again.status).toBe(429);
    expect(JSON.parse(again.body)).toEqual({ error: 'rate limit exceeded' });
    const other = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '203.0.113.2' },
      body: v3Body,
    });
    expect(other.status).toBe(202);
    // an authenticated client is not limited by the anonymous buckets
    const authed = await proxy.request('/intake/v3/rum/events', {
      method: 'POST',
      headers: { ...browser, 'X-Forwarded-For': '203.0.113.1', Authorization: `Bearer ${testToken}` },
      body: many,
    });
    expect(authed.status).toBe(202);
  });
});
