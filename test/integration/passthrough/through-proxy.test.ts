import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

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
        upstream: {
          url: upstream.url,
          secret_token: 'upstream-token',
          ssl: { certificate_authorities: [testPki().caFile] },
        },
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
    expect(
      (
        await withUpstream.request('/config/v1/agents?service.name=checkout', {
          headers: { ...auth, 'if-none-match': etag },
        })
      ).status,
    ).toBe(304);
    expect((await withUpstream.request('/config/v1/agents?service.name=checkout')).status).toBe(401);
    expect((await plain.request('/config/v1/agents?service.name=checkout', { headers: auth })).status).toBe(403);
  });

  it('passes other paths to the upstream with its own credential after authenticating, and 404s them without one', async () => {
    const passed = await withUpstream.request('/intake/v2/otlp-ish?x=1', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect([passed.status, passed.body]).toEqual([202, '{"from":"upstream"}']);
    expect(seen.at(-1)).toEqual({ url: '/intake/v2/otlp-ish?x=1', authorization: 'Bearer upstream-token' });
    const count = seen.length;
    expect((await withUpstream.request('/anything', { method: 'POST', body: 'x' })).status).toBe(401);
    expect(seen.length).toBe(count);
    expect((await plain.request('/anything', { headers: auth })).status).toBe(404);
    const metrics = await withUpstream.admin('/metrics');
    expect(metrics.body).toContain('apm_sidecar_upstream_responses_total{status="202",role="proxy"} 1');
  });

  it('refuses TRACE, CONNECT-like methods, upgrades, encoded slashes and dot segments before anything reaches the upstream', async () => {
    const count = seen.length;
    for (const method of ['TRACE', 'PUT', 'DELETE', 'PATCH']) {
      const res = await withUpstream.request('/anything', { method, headers: auth });
      expect([method, res.status]).toEqual([method, 405]);
      expect(res.headers.connection).toBe('close');
    }
    const upgrade = await withUpstream.request('/socket', {
      headers: { ...auth, connection: 'Upgrade', upgrade: 'websocket' },
    });
    expect(upgrade.status).toBe(400);
    for (const target of [
      '/..%2f..%2fsecret',
      '/base%2Fsecret',
      '/a%5cb',
      '/a/../secret',
      '/a/%2e%2e/secret',
      '/a/./b',
      '/a/.%2E/b',
    ]) {
      const res = await rawRequest(withUpstream.proxy.intake.port, target);
      expect([target, res.slice(0, 12)]).toEqual([target, 'HTTP/1.1 400']);
    }
    expect(seen.length).toBe(count);
    // The allowed methods still pass.
    expect((await withUpstream.request('/anything', { method: 'OPTIONS', headers: auth })).status).toBe(202);
  });
});

/** A request with its target sent byte for byte (Node's client would normalise nothing, but this says so). */
function rawRequest(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost' }, () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth.authorization}\r\nConnection: close\r\n\r\n`,
      );
    });
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}
