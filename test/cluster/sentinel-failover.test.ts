import { SentinelSet } from '../support/redis-sentinel';
import { type FailoverResult, runFailoverScenario } from './support/failover-scenario';

/**
 * The Sentinel master SIGKILLed under load: a master with two replicas and three sentinels, a proxy and two
 * forwarders that know only the sentinels. With durability replicated (WAIT for one replica) every acknowledged
 * event is indexed exactly once after the sentinels promote a replica; with applied the scenario reports what the
 * failover lost (acknowledged by the old master before it replicated them), the figure docs/operations.md gives.
 */
async function failoverScenario(durability: 'replicated' | 'applied'): Promise<FailoverResult> {
  const set = await SentinelSet.start();
  return runFailoverScenario({
    set,
    rig: {
      queueRedis: { config: set.queueRedis, connect: () => set.connect() },
      proxy: { queue: { durability, replicas: 1 } },
    },
    scenario: `sentinel-master-sigkill-${durability}`,
    fault: `Sentinel master SIGKILLed under load (1 master + 2 replicas, 3 sentinels), durability ${durability}`,
    failover: async () => {
      const old = await set.killMaster();
      await set.waitForFailover(old, 1);
      return 'new master named and in sync';
    },
  });
}

describe('cluster: Redis Sentinel failover under load', () => {
  it('durability replicated: every acknowledged event is indexed exactly once after the master is SIGKILLed', async () => {
    const result = await failoverScenario('replicated');
    expect(result.acknowledged).toBeGreaterThan(200);
    expect(result).toMatchObject({ lost: 0, doubled: 0, afterwards: 202 });
    expect(result.dlq).toContain('0 dead-lettered documents');
    expect(result.errors).toEqual([]);
  }, 115_000);

  it('durability applied: the proxy follows the new master; what the failover lost is reported', async () => {
    const result = await failoverScenario('applied');
    expect(result.acknowledged).toBeGreaterThan(200);
    expect(result).toMatchObject({ doubled: 0, afterwards: 202 });
    expect(result.errors).toEqual([]);
  }, 115_000);
});
