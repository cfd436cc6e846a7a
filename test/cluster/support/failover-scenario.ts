import { FaultRig, type RigOptions, sleep } from '../../faults/support/rig';
import { recordScenario } from '../../support/oracle';

/** What a failover scenario found: the oracle's figures and how the stack looks afterwards. */
export interface FailoverResult {
  readonly lost: number;
  readonly doubled: number;
  readonly acknowledged: number;
  /** The status of a request sent once the queue has settled (202 when the proxy follows the new master). */
  readonly afterwards: number;
  readonly readiness: string;
  readonly dlq: string;
  readonly errors: string[];
}

export interface FailoverScenario {
  /** The Redis set (Sentinel, Cluster) the rig runs on; destroyed after the rig. */
  readonly set: { destroy(): Promise<void> };
  readonly rig: RigOptions;
  readonly scenario: string;
  readonly fault: string;
  /**
   * Fails a master over under load and waits until the queue is served again; resolves to what the notes say of
   * that (`new master named and in sync`), followed there by the seconds it took.
   */
  readonly failover: (rig: FaultRig) => Promise<string>;
}

/**
 * The conservation oracle over a failover, as the Sentinel and Cluster suites share it: a proxy and two
 * forwarders on the set, four agents sending unique event ids, the failover, three more seconds of load, then
 * every acknowledged event looked for in the index (recorded for the fault table). `dlq list` is run through the
 * same set, and error-level lines other than the proxy saying a promoted master lacks its replicas are returned.
 */
export async function runFailoverScenario(s: FailoverScenario): Promise<FailoverResult> {
  const rig = await FaultRig.start(s.rig).catch(async (err: unknown) => {
    await s.set.destroy();
    throw err;
  });
  try {
    const proxy = await rig.startProxy();
    await rig.startForwarder('forwarder-a');
    await rig.startForwarder('forwarder-b');
    const load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 20 });
    await sleep(3000);
    let served = '';
    const rate = await rig.rateDuring(async () => {
      const started = Date.now();
      const what = await s.failover(rig);
      served = `${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`;
      await sleep(3000);
    });
    const sent = await load.stop();
    const figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    const counts = await rig.queueCounts();
    recordScenario({
      scenario: s.scenario,
      fault: s.fault,
      ...figures,
      rateDuringFault: rate,
      notes: `${served}; ${sent.requests} requests (${sent.byStatus['503'] ?? 0} answered 503, ${sent.byStatus['0'] ?? 0} cut); failed jobs ${counts.failed ?? 0}`,
    });
    return {
      ...figures,
      afterwards: await acceptsAgain(rig),
      readiness: (await proxy.admin('/readyz')).body,
      // `dlq list` finds every partition's dead letters through the set too, on whichever master now serves it.
      dlq: await rig.cli(['dlq', 'list']),
      // A promoted master has no replica of its own until one is repointed (Sentinel) or ever (Cluster, SIGKILL):
      // with replicated its partition refuses and the proxy says why at error level, as it must.
      errors: rig.unexpectedErrors([/no longer gives the configured queue.durability/]),
    };
  } finally {
    await rig.close();
    await s.set.destroy();
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
