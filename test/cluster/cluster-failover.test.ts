import keySlot from 'cluster-key-slot';

import { partitionsOf } from '../../queue/partitions';
import { FaultRig, sleep } from '../faults/support/rig';
import { recordScenario } from '../support/oracle';
import { RedisClusterSet } from '../support/redis-cluster';

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
async function failoverScenario(
  durability: Durability,
  kind: FailoverKind,
): Promise<{
  readonly lost: number;
  readonly doubled: number;
  readonly acknowledged: number;
  readonly afterwards: number;
  readonly readiness: string;
  readonly dlq: string;
  readonly errors: string[];
}> {
  const set = await RedisClusterSet.start();
  const rig = await FaultRig.start({
    queueRedis: { config: set.queueRedis, connect: () => set.connect() },
    partitions: 3,
    proxy: { queue: { durability, replicas: 1 } },
  });
  try {
    const proxy = await rig.startProxy();
    await rig.startForwarder('forwarder-a');
    await rig.startForwarder('forwarder-b');
    const load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 20 });
    await sleep(3000);
    const [first] = partitionsOf(rig.queueName, 3);
    const slot = keySlot(`bull:${first?.queueName ?? ''}:id`);
    let failoverSeconds = 0;
    const rate = await rig.rateDuring(async () => {
      const started = Date.now();
      const old = kind === 'sigkill' ? await set.killMasterOf(slot) : await set.failoverManually(slot);
      await set.waitForOwner(slot, old);
      failoverSeconds = (Date.now() - started) / 1000;
      await sleep(3000);
    });
    const sent = await load.stop();
    const figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    const counts = await rig.queueCounts();
    recordScenario({
      scenario: `cluster-${kind}-${durability}`,
      fault: `Redis Cluster (3 masters + 3 replicas, 3 partitions): ${kinds[kind]} under load, durability ${durability}`,
      ...figures,
      rateDuringFault: rate,
      notes: `slot ${slot} served by another master after ${failoverSeconds.toFixed(1)} s; ${sent.requests} requests (${sent.byStatus['503'] ?? 0} answered 503, ${sent.byStatus['0'] ?? 0} cut); failed jobs ${counts.failed ?? 0}`,
    });
    return {
      ...figures,
      afterwards: await acceptsAgain(rig),
      readiness: (await proxy.admin('/readyz')).body,
      // `dlq list` reads every partition's dead letters, on whichever master now serves it.
      dlq: await rig.cli(['dlq', 'list']),
      // A master promoted after a SIGKILL has no replica of its own: its partition refuses (replicated) and the
      // proxy says why at error level, as it must, while the other partitions take the load.
      errors: rig.unexpectedErrors([/no longer gives the configured queue.durability/]),
    };
  } finally {
    await rig.close();
    await set.destroy();
  }
}

/** The status of a request sent once the queue has settled; polled for up to 15 s, since a re-check may be due. */
async function acceptsAgain(rig: FaultRig): Promise<number> {
  let status = 0;
  for (let i = 0; i < 30 && status !== 202; i++) {
    status = await rig.send(1);
    if (status !== 202) await sleep(500);
  }
  return status;
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
