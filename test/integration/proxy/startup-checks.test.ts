import { SidecarError } from '../../../core/errors';
import { startProxy } from '../../../proxy/proxy';
import { LogSink } from '../../support/log-sink';
import { ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

async function refusal(redis: RedisServer, overrides: Record<string, unknown>, tls = true): Promise<SidecarError> {
  const config = ProxyHarness.configFor({ redis, overrides, tls });
  try {
    const proxy = await startProxy(config, new LogSink().logger());
    await proxy.close();
  } catch (err) {
    if (err instanceof SidecarError) return err;
    throw err;
  }
  throw new Error('expected the proxy to refuse to start');
}

describe('the proxy refuses to start on an unsafe setup', () => {
  const servers: RedisServer[] = [];
  const redis = async (options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> => {
    const server = await RedisServer.start(options);
    servers.push(server);
    return server;
  };

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
  });

  it('refuses a Redis with an eviction policy', async () => {
    const err = await refusal(await redis({ maxmemoryPolicy: 'allkeys-lru' }), {});
    expect(err.code).toBe('SIDECAR_ERR_REDIS_POLICY');
  });

  it('refuses durability fsync unless Redis runs appendfsync always, and runs with it', async () => {
    const everysec = await redis();
    expect((await refusal(everysec, { queue: { durability: 'fsync' } })).code).toBe('SIDECAR_ERR_REDIS_DURABILITY');
    const always = await redis({ args: ['--appendfsync', 'always'] });
    const proxy = await ProxyHarness.start({ redis: always, overrides: { queue: { durability: 'fsync' } } });
    try {
      const ready = await proxy.admin('/readyz');
      expect(JSON.parse(ready.body)).toMatchObject({ ready: true, details: { durability: 'fsync' } });
      expect(proxy.sink.lines.some((l) => String(l.msg).startsWith('queue durability in effect: fsync'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('refuses durability replicated without enough replicas', async () => {
    expect((await refusal(await redis(), { queue: { durability: 'replicated', replicas: 1 } })).code).toBe(
      'SIDECAR_ERR_REDIS_DURABILITY',
    );
  });

  it('refuses credentials without TLS unless allow_insecure, which warns', async () => {
    const server = await redis();
    const err = await refusal(server, { server: { auth: { allow_insecure: false } } }, false);
    expect(err.code).toBe('SIDECAR_ERR_INSECURE_CREDENTIALS');
    const proxy = await ProxyHarness.start({ redis: server, tls: false });
    try {
      expect(proxy.sink.lines.some((l) => l.level === 'warn' && String(l.msg).includes('allow_insecure'))).toBe(true);
      expect((await proxy.request('/', { headers: { Authorization: 'Bearer test-secret-token' } })).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it('refuses an unreachable Redis with a remediation', async () => {
    const server = await redis();
    await server.stop();
    const err = await refusal(server, {});
    expect(err.code).toBe('SIDECAR_ERR_QUEUE_UNAVAILABLE');
    expect(err.remediation).toMatch(/queue\.redis\.url/);
  });
});
