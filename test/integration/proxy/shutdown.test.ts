import { halfSentRequest, requestsInFlight } from '../../support/in-flight-request';
import { ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { proxyEnv, spawnCli } from '../../support/spawn-cli';
import { golden, parsed } from './golden';

// Spawned processes on a loaded 2-core machine (8 jobs at once): a bound that proves each test ends, not how fast.
jest.setTimeout(240_000);

const event =
  '{"transaction":{"id":"945254c567a5417e","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":32.5,"span_count":{"started":0}}}\n';

describe('drain on shutdown (in-process)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.destroy();
  });

  it('goes unready at once, lets an in-flight request finish with 202, and answers a stalled one 503 within shutdown_timeout', async () => {
    // The finishing request's last line must arrive within the drain on a loaded machine too: a generous
    // shutdown_timeout, which only the stalled request waits out.
    const proxy = await ProxyHarness.start({ redis, overrides: { server: { shutdown_timeout: '6s' } } });
    try {
      const finishing = halfSentRequest(proxy.proxy.intake.port, event);
      const stalled = halfSentRequest(proxy.proxy.intake.port, event);
      // Both are being served before the drain starts (a request that arrives after it is answered 503 at once).
      await requestsInFlight(proxy.adminUrl, 2);
      const closing = proxy.proxy.close();
      finishing.finish();
      const ready = await proxy.admin('/readyz');
      expect(ready.status).toBe(503);
      expect((parsed(ready.body) as { reasons: string[] }).reasons).toContain('shutting down');
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
      await proxy.waitFor(/"message":"admin listening/);
      const portOf = (message: string): number =>
        Number(proxy.logLines().find((l) => l.msg?.startsWith(message))?.port);
      const stalled = halfSentRequest(portOf('intake listening'), event);
      await requestsInFlight(`http://127.0.0.1:${portOf('admin listening')}`, 1);
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
  it('a second SIGTERM a second or more after the first exits at once with 130, not after shutdown_timeout', async () => {
    // shutdown_timeout far above the test's bound: an exit within the bound can only come from the second signal.
    const proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_SERVER_SHUTDOWN_TIMEOUT: '10m',
        APM_SIDECAR_QUEUE: `second-signal-${process.pid}`,
      }),
    );
    try {
      await proxy.waitFor(/"message":"admin listening/);
      const portOf = (message: string): number =>
        Number(proxy.logLines().find((l) => l.msg?.startsWith(message))?.port);
      const stalled = halfSentRequest(portOf('intake listening'), event);
      const answer = stalled.response.catch((err: unknown) => err);
      await requestsInFlight(`http://127.0.0.1:${portOf('admin listening')}`, 1);
      proxy.child.kill('SIGTERM');
      await proxy.waitFor(/"message":"draining/);
      // Signals within a second of each other are one request (npm forwards its group's SIGTERM too).
      await new Promise((r) => setTimeout(r, 1100));
      proxy.child.kill('SIGTERM');
      expect(await proxy.exitWithin(60_000)).toEqual({ code: 130, signal: null });
      expect(proxy.logLines().some((l) => l.msg?.startsWith('second signal: exiting now') === true)).toBe(true);
      await answer;
    } finally {
      await proxy.stop('SIGKILL');
    }
  });
});
