import keySlot from 'cluster-key-slot';

import { partitionsOf } from '../../queue/partitions';
import { RedisClusterSet } from '../support/redis-cluster';
import { type FailoverResult, runFailoverScenario } from './support/failover-scenario';

type Durability = 'replicated' | 'applied';
type FailoverKind = 'sigkill' | 'manual';

const kinds: Record<FailoverKind, string> = {
  sigkill: 'a master SIGKILLed',
  manual: 'CLUSTER FAILOVER run on a replica',
};

/**
 * A Redis Cluster of 3 masters with a replica each, queue.partitions 3 (one per master), a proxy and two
 * forwarders that know only the seed nodes, agents sending unique event ids; then the master of partition 0
 * fails over, either SIGKILLed (its replica takes over after cluster-node-timeout) or handed over with CLUSTER
 * FAILOVER on its replica. With durability replicated every acknowledged event is indexed exactly once; with
 * applied the scenario reports what the failover lost (acknowledged by the old master before its replica had it).
 */
async function failoverScenario(durability: Durability, kind: FailoverKind): Promise<FailoverResult> {
  const set = await RedisClusterSet.start();
  return runFailoverScenario({
    set,
    rig: {
      queueRedis: { config: set.queueRedis, connect: () => set.connect() },
      partitions: 3,
      proxy: { queue: { durability, replicas: 1 } },
    },
    scenario: `cluster-${kind}-${durability}`,
    fault: `Redis Cluster (3 masters + 3 replicas, 3 partitions): ${kinds[kind]} under load, durability ${durability}`,
    failover: async (rig) => {
      const [first] = partitionsOf(rig.queueName, 3);
      const slot = keySlot(`bull:${first?.queueName ?? ''}:id`);
      const old = kind === 'sigkill' ? await set.killMasterOf(slot) : await set.failoverManually(slot);
      await set.waitForOwner(slot, old);
      return `slot ${slot} served by another master`;
    },
  });
}

describe('cluster: Redis Cluster failover under load, 3 partitions', () => {
  it.each<FailoverKind>(['sigkill', 'manual'])(
    'durability replicated, %s: every acknowledged event is indexed exactly once',
    async (kind) => {
      const result = await failoverScenario('replicated', kind);
      expect(result.acknowledged).toBeGreaterThan(200);
      expect(result).toMatchObject({ lost: 0, doubled: 0, afterwards: 202 });
      expect(result.readiness).toContain('"partitions":[');
      expect(result.dlq).toContain('0 dead-lettered documents');
      expect(result.errors).toEqual([]);
    },
    115_000,
  );

  it.each<FailoverKind>(['sigkill', 'manual'])(
    'durability applied, %s: the proxy keeps taking requests; what the failover lost is reported',
    async (kind) => {
      const result = await failoverScenario('applied', kind);
      expect(result.acknowledged).toBeGreaterThan(200);
      expect(result).toMatchObject({ doubled: 0, afterwards: 202 });
      expect(result.errors).toEqual([]);
    },
    115_000,
  );
});
