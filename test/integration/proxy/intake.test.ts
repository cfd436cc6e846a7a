import fs from 'node:fs';
import zlib from 'node:zlib';

import { sidecarBuild } from '../../../core/version';
import { tokenIdentity } from '../../../proxy/auth/secret-tokens';
import { decodeJobBody, parseIntakeJobData } from '../../../queue/contract';
import { ownFixture } from '../../support/fixtures';
import { eventually, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { golden, parsed } from './golden';

/** The real Node agent's request body, captured by scripts/capture-agent.ts. */
const agentNdjson = fs.readFileSync(ownFixture('agent-nodejs', 'intake-v2-events.ndjson'));
const agentGzip = zlib.gzipSync(agentNdjson);
const agentEvents =
  agentNdjson
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length - 1;
const json = { Accept: 'application/json' };
const auth = { Authorization: `Bearer ${testToken}` };
const ndjson = { 'Content-Type': 'application/x-ndjson' };

describe('proxy intake (real redis-server, real TLS)', () => {
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

  afterEach(() => proxy.sink.assertNoUnexpectedErrors());

  it('answers 202 with an empty body only after the job is in Redis, and the job gives back the events', async () => {
    const headers = {
      ...auth,
      ...ndjson,
      'Content-Encoding': 'gzip',
      'User-Agent': 'apm-agent-nodejs/4.18.0',
      Connection: 'keep-alive',
    };
    const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body: agentGzip });
    expect(res.status).toBe(202);
    expect(res.body).toBe('');
    // Only answers >= 400 close the connection.
    expect(res.headers.connection).toBe('keep-alive');
    const jobs = await proxy.queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    const data = parseIntakeJobData(jobs[0]?.data);
    expect(jobs[0]?.id).toBe(data.requestId);
    expect(data.identity).toEqual({ kind: 'secret_token', id: tokenIdentity(testToken) });
    expect(data.client).toEqual({ ip: '127.0.0.1', userAgent: 'apm-agent-nodejs/4.18.0' });
    expect(data.events).toBe(agentEvents);
    const decoded = decodeJobBody(data, 64 * 1024 * 1024);
    const lines = agentNdjson
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(decoded.metadata).toBe(lines[0]);
    expect(decoded.events.map((e) => e.line)).toEqual(lines.slice(1));
  });

  it('answers {"accepted":N} with ?verbose', async () => {
    const res = await proxy.request('/intake/v2/events?verbose', {
      method: 'POST',
      headers: { ...auth, ...json, ...ndjson, 'Content-Encoding': 'gzip' },
      body: agentGzip,
    });
    expect(res.status).toBe(202);
    expect(parsed(res.body)).toEqual(golden('verbose.json'));
  });

  it('accepts a plain body with a charset in the content type, and no content type at all', async () => {
    for (const headers of [{ 'Content-Type': 'application/x-ndjson; charset=utf-8' }, {}] as Array<
      Record<string, string>
    >) {
      const res = await proxy.request('/intake/v2/events', {
        method: 'POST',
        headers: { ...auth, ...headers },
        body: agentNdjson,
      });
      expect(res.status).toBe(202);
    }
  });

  it('answers 400 for a method other than POST, and for a wrong content type, closing the connection', async () => {
    const method = await proxy.request('/intake/v2/events', { method: 'GET', headers: { ...auth, ...json } });
    expect(method.status).toBe(400);
    expect(parsed(method.body)).toEqual(golden('method.json'));
    expect(method.headers.connection).toBe('close');
    const type = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { ...auth, ...json, 'Content-Type': 'application/json' },
      body: agentNdjson,
    });
    expect(type.status).toBe(400);
    expect(parsed(type.body)).toEqual(golden('content-type.json'));
    expect(type.headers.connection).toBe('close');
  });

  it('answers 400 for invalid lines while keeping the valid ones', async () => {
    const lines = agentNdjson
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const body = [lines[0], lines[1], '{"transaction": not json', lines[2]].join('\n');
    const before = (await proxy.queue.getJobs(['waiting'])).length;
    const res = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { ...auth, ...json, ...ndjson },
      body,
    });
    expect(res.status).toBe(400);
    const answer = parsed(res.body) as { accepted: number; errors: Array<{ message: string }> };
    expect(answer.accepted).toBe(2);
    expect(answer.errors).toHaveLength(1);
    expect(res.headers.connection).toBe('close');
    await eventually(async () => ((await proxy.queue.getJobs(['waiting'])).length === before + 1 ? true : undefined));
  });

  it("answers 401 for a missing or wrong token, with APM Server's messages", async () => {
    const missing = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { ...json, ...ndjson },
      body: agentNdjson,
    });
    expect(missing.status).toBe(401);
    expect(parsed(missing.body)).toEqual(golden('unauthorized-missing.json'));
    expect(missing.headers.connection).toBe('close');
    const wrong = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { ...json, ...ndjson, Authorization: 'Bearer nope' },
      body: agentNdjson,
    });
    expect(wrong.status).toBe(401);
    expect(parsed(wrong.body)).toEqual(golden('unauthorized-invalid.json'));
    expect(JSON.stringify(proxy.sink.lines)).not.toContain(testToken);
  });

  it('GET / shows the server information only to an authenticated caller; other methods get 405', async () => {
    const anonymous = await proxy.request('/', { headers: json });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toBe('');
    const wrong = await proxy.request('/', { headers: { ...json, Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toBe('');
    const known = await proxy.request('/', { headers: { ...json, ...auth } });
    expect(known.status).toBe(200);
    expect(known.headers['content-type']).toBe('application/json');
    // The build stamp is this build's (core/version.ts); the rest of the body is APM Server's, byte for byte.
    expect(known.body).toBe(
      String(golden('root-authenticated.txt'))
        .replace('<build_date>', sidecarBuild.date)
        .replace('<build_sha>', sidecarBuild.sha),
    );
    const head = await proxy.request('/', { method: 'HEAD', headers: { ...json, ...auth } });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await proxy.request('/', { method: 'POST', headers: { ...json, ...auth } });
    expect(post.status).toBe(405);
    expect(parsed(post.body)).toEqual(golden('root-method.json'));
    expect(post.headers.connection).toBe('close');
  });

  it('answers 403 on RUM and agent-configuration endpoints and 404 on unknown paths', async () => {
    for (const path of ['/intake/v2/rum/events', '/intake/v3/rum/events']) {
      const rum = await proxy.request(path, { method: 'POST', headers: { ...json, ...ndjson }, body: agentNdjson });
      expect(rum.status).toBe(403);
      expect((parsed(rum.body) as { error: string }).error).toMatch(/^forbidden request: RUM endpoint is disabled/);
      expect(rum.headers.connection).toBe('close');
    }
    const config = await proxy.request('/config/v1/agents?service.name=demo-svc', { headers: { ...json, ...auth } });
    expect(config.status).toBe(403);
    expect((parsed(config.body) as { error: string }).error).toMatch(
      /^forbidden request: Agent remote configuration is disabled/,
    );
    const missing = await proxy.request('/nope', { headers: { ...json, ...auth } });
    expect(missing.status).toBe(404);
    expect(missing.headers.connection).toBe('close');
  });

  it('counts requests and events in /metrics and reports readiness with the durability level', async () => {
    const metrics = await proxy.admin('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/apm_sidecar_intake_requests_total\{status="202",result="accepted"[^}]*\} \d+/);
    expect(metrics.body).toMatch(/apm_sidecar_intake_events_total\{result="accepted"[^}]*\} \d+/);
    // Only intake endpoints count in intake_requests_total: the earlier 404 and agent-config 403 are in the latency
    // histogram only, the RUM 403s (an intake endpoint, disabled) in both.
    const intakeLines = metrics.body.split('\n').filter((l) => l.startsWith('apm_sidecar_intake_requests_total{'));
    expect(intakeLines.filter((l) => l.includes('status="404"'))).toEqual([]);
    expect(intakeLines.filter((l) => l.includes('status="403"'))).toEqual([expect.stringMatching(/ 2$/) as string]);
    expect(metrics.body).toMatch(/apm_sidecar_request_duration_seconds_count\{[^}]*status="404"[^}]*\} 1/);
    expect(metrics.body).toMatch(/apm_sidecar_request_duration_seconds_count\{[^}]*status="403"[^}]*\} 3/);
    // Queue depth is the forwarders' series (one role exports it, so a sum over instances is not doubled).
    expect(metrics.body).not.toContain('apm_sidecar_queue_jobs');
    expect(metrics.body).toContain('apm_sidecar_enqueue_duration_seconds_bucket');
    const ready = await proxy.admin('/readyz');
    expect(ready.status).toBe(200);
    expect(parsed(ready.body)).toEqual({ ready: true, reasons: [], details: { durability: 'applied', queue: 'open' } });
    expect((await proxy.admin('/healthz')).status).toBe(200);
  });
});

// Over plain HTTP the refusal is this 403; over TLS the connection is dropped before the handshake
// (connection-bounds.test.ts).
describe('proxy network allow-list', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      tls: false,
      overrides: { server: { allowed_networks: ['10.0.0.0/8', 'fd00::/8'] } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('answers 403 to a client outside server.allowed_networks before reading the body', async () => {
    const res = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { ...auth, ...json, ...ndjson },
      body: agentNdjson,
    });
    expect(res.status).toBe(403);
    expect(parsed(res.body)).toEqual(golden('forbidden-network.json'));
    expect(res.headers.connection).toBe('close');
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
  });
});
