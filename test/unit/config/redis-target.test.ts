import { loadConfig } from '../../../config/load';
import { describeRedisTarget, redisTargetOf, requireRedisTarget } from '../../../config/redis-target';
import { configError } from '../../support/config-error';

describe('the queue Redis target', () => {
  it('is the single URL by default, as before', () => {
    const { config } = loadConfig({ env: { APM_SIDECAR_REDIS_URL: 'redis://:pw@10.0.0.5:6380/2' } });
    const target = redisTargetOf(config.queue.redis);
    expect(target).toEqual({ kind: 'single', url: 'redis://:pw@10.0.0.5:6380/2' });
    expect(target === null ? '' : describeRedisTarget(target)).toBe('queue.redis.url');
  });

  it('is the Sentinel master when sentinels are given in the environment, and never names a password', () => {
    const { config } = loadConfig({
      env: {
        APM_SIDECAR_REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380',
        APM_SIDECAR_REDIS_SENTINEL_MASTER: 'apm',
        APM_SIDECAR_REDIS_URL: 'rediss://user:secret@ignored:1/3',
      },
    });
    const target = requireRedisTarget(config, 'test');
    expect(target).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'apm',
      url: 'rediss://user:secret@ignored:1/3',
    });
    expect(describeRedisTarget(target)).toBe(
      'Sentinel master apm (queue.redis.sentinel.nodes 10.0.0.1:26379,::1:26380)',
    );
    expect(describeRedisTarget(target)).not.toContain('secret');
  });

  it('refuses a sentinel address that is not host:port, naming it', () => {
    expect(configError(() => loadConfig({ env: { APM_SIDECAR_REDIS_SENTINELS: '10.0.0.1' } })).message).toContain(
      '"10.0.0.1" is not "host:port"',
    );
  });

  it('is a config error naming both keys when neither is set', () => {
    const { config } = loadConfig({ env: {} });
    expect(() => requireRedisTarget(config, 'forwarder')).toThrow(
      'queue.redis.url is not set (nor queue.redis.sentinel.nodes): the forwarder needs the queue',
    );
  });
});

describe('the queue Redis target on a Redis Cluster', () => {
  it('is the cluster seed nodes, with queue.redis.url giving only the credentials, and never names a password', () => {
    const { config } = loadConfig({
      env: {
        APM_SIDECAR_REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001',
        APM_SIDECAR_QUEUE_PARTITIONS: '3',
        APM_SIDECAR_REDIS_URL: 'rediss://user:secret@ignored:1',
      },
    });
    const target = requireRedisTarget(config, 'test');
    expect(target).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      url: 'rediss://user:secret@ignored:1',
    });
    expect(describeRedisTarget(target)).toBe('Redis Cluster (queue.redis.cluster.nodes 10.0.0.1:7000,10.0.0.2:7001)');
    expect(describeRedisTarget(target)).not.toContain('secret');
  });

  it('refuses sentinels and cluster nodes together, naming both keys', () => {
    const { config } = loadConfig({
      env: { APM_SIDECAR_REDIS_CLUSTER_NODES: '10.0.0.1:7000', APM_SIDECAR_REDIS_SENTINELS: '10.0.0.1:26379' },
    });
    const err = configError(() => requireRedisTarget(config, 'proxy'));
    expect(err.code).toBe('SIDECAR_ERR_CONFIG_INVALID');
    expect(err.message).toContain('queue.redis.sentinel.nodes and queue.redis.cluster.nodes are both set');
  });

  it('refuses a cluster with the single, untagged queue (queue.partitions 1)', () => {
    const { config } = loadConfig({ env: { APM_SIDECAR_REDIS_CLUSTER_NODES: '10.0.0.1:7000' } });
    expect(configError(() => requireRedisTarget(config, 'proxy')).message).toContain(
      'queue.redis.cluster.nodes is set with queue.partitions 1',
    );
  });

  it('lets partitions > 1 run on a single Redis (they do not spread, but work)', () => {
    const { config } = loadConfig({ env: { APM_SIDECAR_REDIS_URL: 'redis://h:1', APM_SIDECAR_QUEUE_PARTITIONS: '4' } });
    expect(requireRedisTarget(config, 'proxy').kind).toBe('single');
  });
});
