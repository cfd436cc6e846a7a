import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testPki } from '../../support/certs';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { startTlsServer, type TestServer } from '../agent-config/https-harness';

const auth = { authorization: `Bearer ${testToken}` };

describe('the proxy wires /config/v1/agents and the pass-through into its route table', () => {
  let redis: RedisServer;
  let upstream: TestServer;
  let withUpstream: ProxyHarness;
  let plain: ProxyHarness;
  let dir: string;
  const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    upstream = await startTlsServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      req.resume();
      req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"from":"upstream"}'));
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wiring-'));
    const file = path.join(dir, 'agents.yml');
    fs.writeFileSync(file, '- service: {name: checkout}\n  settings: {transaction_sample_rate: "0.3"}\n');
    withUpstream = await ProxyHarness.start({
      redis,
      overrides: {
        agent_config: { source: 'file', file },
        upstream: { url: upstream.url, secret_token: 'upstream-token', ssl: { certificate_authorities: [testPki().caFile] } },
      },
    });
    plain = await ProxyHarness.start({ redis });
  });

  afterAll(async () => {
    await withUpstream?.close();
    await plain?.close();
    await upstream?.close();
    await redis?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    withUpstream.sink.assertNoUnexpectedErrors();
    plain.sink.assertNoUnexpectedErrors();
  });

  it('answers central configuration to an authenticated agent, 401 to others, 403 when no source is configured', async () => {
    const ok = await withUpstream.request('/config/v1/agents?service.name=checkout', { headers: auth });
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { transaction_sample_rate: '0.3' }]);
    const etag = ok.headers.etag ?? '';
    expect((await withUpstream.request('/config/v1/agents?service.name=checkout', { headers: { ...auth, 'if-none-match': etag } })).status).toBe(304);
    expect((await withUpstream.request('/config/v1/agents?service.name=checkout')).status).toBe(401);
    expect((await plain.request('/config/v1/agents?service.name=checkout', { headers: auth })).status).toBe(403);
  });

  it('passes other paths to the upstream with its own credential after authenticating, and 404s them without one', async () => {
    const passed = await withUpstream.request('/intake/v2/otlp-ish?x=1', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"a":1}' });
    expect([passed.status, passed.body]).toEqual([202, '{"from":"upstream"}']);
    expect(seen.at(-1)).toEqual({ url: '/intake/v2/otlp-ish?x=1', authorization: 'Bearer upstream-token' });
    const count = seen.length;
    expect((await withUpstream.request('/anything', { method: 'POST', body: 'x' })).status).toBe(401);
    expect(seen.length).toBe(count);
    expect((await plain.request('/anything', { headers: auth })).status).toBe(404);
    const metrics = await withUpstream.admin('/metrics');
    expect(metrics.body).toContain('apm_sidecar_upstream_responses_total{status="202",role="proxy"} 1');
  });
});
