import { testPki } from '../support/certs';
import { eventually, testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { spawnCli, type SpawnedProcess } from '../support/spawn-cli';
import { queuedEvents, runAgentApp } from './agent-app';

describe('the real Node agent against the built `apm-sidecar proxy`', () => {
  let redis: RedisServer;
  let proxy: SpawnedProcess | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await redis?.destroy();
  });

  it('queues the transaction, span and error the agent sends', async () => {
    const pki = testPki();
    const queueName = `agent-e2e-${process.pid}`;
    proxy = spawnCli(['proxy'], {
      APM_SIDECAR_HOST: '127.0.0.1:0',
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
      APM_SIDECAR_REDIS_URL: redis.url,
      APM_SIDECAR_SECRET_TOKEN: `old-token,${testToken}`,
      APM_SIDECAR_SSL_CERTIFICATE: pki.serverCertFile,
      APM_SIDECAR_SSL_KEY: pki.serverKeyFile,
      APM_SIDECAR_QUEUE: queueName,
    });
    await proxy.waitFor(/"message":"intake listening"/);
    const port = Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port);
    await runAgentApp(`https://localhost:${port}`, testToken, pki.caFile);
    const events = await eventually(
      async () => {
        const found = await queuedEvents(redis.url, queueName);
        return ['transaction', 'span', 'error'].every((t) => found.has(t)) ? found : undefined;
      },
      20_000,
      'transaction, span and error in Redis',
    );
    expect(events.get('transaction')?.[0]).toContain('GET /e2e');
    expect(events.get('span')?.[0]).toContain('db-query');
    expect(events.get('error')?.[0]).toContain('e2e boom');
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
    expect(proxy.stdout).not.toContain(testToken);
  });
});
