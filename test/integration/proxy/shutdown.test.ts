import https from 'node:https';

import { testPki } from '../../support/certs';
import { eventually, type HttpResult, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { proxyEnv, spawnCli } from '../../support/spawn-cli';
import { golden, parsed } from './golden';

const metadata = '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}\n';
const event =
  '{"transaction":{"id":"945254c567a5417e","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":32.5,"span_count":{"started":0}}}\n';

/** A POST whose body is sent in part; the test decides when (and whether) the rest follows. */
function halfSentRequest(port: number): { response: Promise<HttpResult>; finish: () => void } {
  const req = https.request({
    host: '127.0.0.1',
    port,
    path: '/intake/v2/events',
    method: 'POST',
    ca: testPki().ca.cert,
    agent: false,
    headers: {
      Authorization: `Bearer ${testToken}`,
      Accept: 'application/json',
      'Content-Type': 'application/x-ndjson',
    },
  });
  const response = new Promise<HttpResult>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  req.write(metadata);
  return { response, finish: () => req.end(event) };
}

describe('drain on shutdown (in-process)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.destroy();
  });

  it('goes unready at once, lets an in-flight request finish with 202, and answers a stalled one 503 within shutdown_timeout', async () => {
    const proxy = await ProxyHarness.start({ redis, overrides: { server: { shutdown_timeout: '3s' } } });
    try {
      const finishing = halfSentRequest(proxy.proxy.intake.port);
      const stalled = halfSentRequest(proxy.proxy.intake.port);
      await eventually(() => (proxy.sink.lines.length > 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      const closing = proxy.proxy.close();
      const ready = await proxy.admin('/readyz');
      expect(ready.status).toBe(503);
      expect((parsed(ready.body) as { reasons: string[] }).reasons).toContain('shutting down');
      finishing.finish();
      const finished = await finishing.response;
      expect(finished.status).toBe(202);
      const cutOff = await stalled.response;
      expect(cutOff.status).toBe(503);
      expect(parsed(cutOff.body)).toEqual(golden('shutting-down.json'));
      expect(cutOff.headers.connection).toBe('close');
      await closing;
      proxy.sink.assertNoUnexpectedErrors();
    } finally {
      await proxy.close();
    }
  });
});

describe('SIGTERM to a running `apm-sidecar proxy` (spawned)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.destroy();
  });

  it('answers a half-sent request 503 "server is shutting down" and exits 0', async () => {
    const proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_SERVER_SHUTDOWN_TIMEOUT: '2s',
        APM_SIDECAR_QUEUE: `sigterm-${process.pid}`,
      }),
    );
    try {
      const listening = await proxy.waitFor(/"message":"intake listening"/);
      expect(listening).toBeTruthy();
      const port = Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port);
      const stalled = halfSentRequest(port);
      await new Promise((r) => setTimeout(r, 300));
      proxy.child.kill('SIGTERM');
      const answer = await stalled.response;
      expect(answer.status).toBe(503);
      expect(parsed(answer.body)).toEqual(golden('shutting-down.json'));
      const exit = await proxy.exited;
      expect(exit.code).toBe(0);
      expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await proxy.stop('SIGKILL');
    }
  });
});
