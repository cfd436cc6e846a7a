import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';

import { SidecarError } from '../../../core/errors';
import type { QueueCondition } from '../../../proxy/backpressure';
import { IntakeEnqueuer } from '../../../proxy/intake/enqueue';
import { ProxyMetrics } from '../../../proxy/metrics';
import { PartitionAdmission } from '../../../proxy/partition-admission';
import { type IntakeJobData, jobSchemaVersion } from '../../../queue/contract';
import { partitionsOf } from '../../../queue/partitions';
import { LogSink } from '../../support/log-sink';

/** A partition's monitor as admission sees it: a condition and a backlog the test sets. */
class StandInMonitor {
  condition: QueueCondition = { state: 'open' };
  waiting = 0;
  current(): QueueCondition {
    return this.condition;
  }
  backlog(): number {
    return this.waiting;
  }
  admit(): Promise<void> {
    return this.refusal();
  }
  assertDurable(): Promise<void> {
    return this.refusal();
  }
  private refusal(): Promise<void> {
    const c = this.condition;
    if (c.state === 'open') return Promise.resolve();
    const code =
      c.state === 'full'
        ? 'SIDECAR_ERR_QUEUE_FULL'
        : c.state === 'unsafe'
          ? 'SIDECAR_ERR_QUEUE_NOT_DURABLE'
          : 'SIDECAR_ERR_QUEUE_UNAVAILABLE';
    return Promise.reject(new SidecarError(code, undefined, { cause: new Error(c.reason) }));
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function admissionOf(count: number, random: () => number = Math.random) {
  const partitions = partitionsOf('apm-intake', count);
  const monitors = partitions.map(() => new StandInMonitor());
  return { partitions, monitors, admission: new PartitionAdmission(partitions, monitors, random) };
}

describe('partition admission', () => {
  it('with one partition is that partition: always chosen, its refusal rethrown as it was', async () => {
    const { admission, monitors } = admissionOf(1);
    const only = monitors[0] as StandInMonitor;
    only.condition = { state: 'full', reason: '9 jobs waiting' };
    expect(admission.choose()?.queueName).toBe('apm-intake');
    admission.markUnhealthy(admission.partitions[0]!);
    expect(admission.choose()?.index).toBe(0);
    expect(admission.choose([0])).toBeUndefined();
    await expect(admission.admit()).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_FULL' });
    expect(admission.current()).toEqual({ state: 'full', reason: '9 jobs waiting' });
    expect(admission.views()).toHaveLength(1);
  });

  it('admits while any partition is open; with none, answers the least bad refusal (full before unavailable)', async () => {
    const { admission, monitors } = admissionOf(3);
    const [a, b, c] = monitors as [StandInMonitor, StandInMonitor, StandInMonitor];
    a.condition = { state: 'unavailable', reason: 'Redis connection is reconnecting' };
    b.condition = { state: 'unsafe', reason: '0 connected replicas' };
    await expect(admission.admit()).resolves.toBeUndefined();
    expect(admission.current().state).toBe('open');
    c.condition = { state: 'full', reason: '500 jobs waiting' };
    await expect(admission.admit()).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_FULL' });
    expect(admission.current()).toEqual({
      state: 'full',
      reason: 'all 3 partitions refuse; partition 2: 500 jobs waiting',
    });
    c.condition = { state: 'unavailable', reason: 'no Redis master serves this partition now' };
    await expect(admission.assertDurable()).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_UNAVAILABLE' });
    expect(admission.views().map((v) => v.queue)).toEqual(['unavailable', 'unsafe', 'unavailable']);
  });

  it('chooses the shorter of two partitions, never an unavailable or undurable one', () => {
    const { admission, monitors } = admissionOf(3);
    const [a, b, c] = monitors as [StandInMonitor, StandInMonitor, StandInMonitor];
    a.waiting = 50;
    b.waiting = 3;
    c.condition = { state: 'unsafe', reason: '0 connected replicas' };
    const picks = new Set<number>();
    for (let i = 0; i < 200; i++) picks.add(admission.choose()?.index ?? -1);
    expect([...picks]).toEqual([1]);
    b.condition = { state: 'unavailable', reason: 'Redis connection is connecting' };
    expect(admission.choose()?.index).toBe(0);
    expect(admission.choose([0])).toBeUndefined();
  });

  it('passes over a partition marked unhealthy while another is open, and tries it when it is the only one', () => {
    const { admission, partitions, monitors } = admissionOf(2);
    admission.markUnhealthy(partitions[0]!);
    for (let i = 0; i < 50; i++) expect(admission.choose()?.index).toBe(1);
    expect(admission.views()[0]?.unhealthyMs).toBeGreaterThan(0);
    (monitors[1] as StandInMonitor).condition = { state: 'unavailable', reason: 'closed' };
    expect(admission.choose()?.index).toBe(0);
  });

  it('queues a request admitted before every partition filled up (as one partition does)', () => {
    const { admission, monitors } = admissionOf(2);
    for (const m of monitors) m.condition = { state: 'full', reason: 'full' };
    expect(admission.choose()).toBeDefined();
  });
});

/** A partition's BullMQ queue whose add the test scripts: resolve, reject with a Redis error, or hang. */
function standInQueue(behaviour: 'ok' | 'fail' | 'hang', log: string[], name: string): Queue {
  return {
    add: (_n: string, data: { requestId: string }) => {
      log.push(`${name}:${data.requestId}`);
      if (behaviour === 'ok') return Promise.resolve({ id: data.requestId });
      if (behaviour === 'fail') return Promise.reject(new Error('CLUSTERDOWN The cluster is down'));
      return new Promise(() => undefined);
    },
  } as unknown as Queue;
}

function job(id: string): IntakeJobData {
  return {
    v: jobSchemaVersion,
    requestId: id,
    receivedAt: 0,
    identity: { kind: 'anonymous' },
    client: { ip: '127.0.0.1', userAgent: null },
    encoding: 'gzip',
    body: '',
    events: 1,
    rawBytes: 1,
  };
}

describe('the enqueuer over partitions', () => {
  function enqueuerOf(
    behaviours: ReadonlyArray<'ok' | 'fail' | 'hang'>,
    options: { durability?: 'applied' | 'replicated'; acknowledged?: number; timeoutMs?: number } = {},
  ) {
    const sink = new LogSink();
    const log: string[] = [];
    const { admission, partitions } = admissionOf(behaviours.length, () => 0);
    const queues = behaviours.map((b, i) => standInQueue(b, log, `p${i}`));
    // A single Redis: WAIT runs on it (masterFor gives the connection itself).
    const redis = { wait: () => Promise.resolve(options.acknowledged ?? 1) } as unknown as Redis;
    const enqueuer = new IntakeEnqueuer(
      redis,
      partitions,
      queues,
      admission,
      {
        durability: options.durability ?? 'applied',
        replicas: 1,
        keepCompleted: 0,
        commandTimeoutMs: options.timeoutMs ?? 2000,
      },
      new ProxyMetrics(new Registry()),
      sink.logger(),
    );
    return { enqueuer, admission, log, sink };
  }

  it('retries once on another partition after CLUSTERDOWN and marks the failed one unhealthy', async () => {
    const { enqueuer, admission, log, sink } = enqueuerOf(['fail', 'ok', 'ok']);
    await enqueuer.enqueue(job('r1'));
    expect(log).toEqual(['p0:r1', 'p1:r1']);
    expect(admission.views()[0]?.unhealthyMs).toBeGreaterThan(0);
    // Partition 0 is passed over from then on.
    await enqueuer.enqueue(job('r2'));
    expect(log.slice(2)).toEqual(['p1:r2']);
    expect(sink.lines.some((l) => /tried on another/.test(String(l.msg)))).toBe(true);
    sink.assertNoUnexpectedErrors();
  });

  it('answers 503 when the second partition fails too, and with one partition never retries', async () => {
    const two = enqueuerOf(['fail', 'fail']);
    await expect(two.enqueuer.enqueue(job('r1'))).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_UNAVAILABLE' });
    expect(two.log).toEqual(['p0:r1', 'p1:r1']);
    const one = enqueuerOf(['fail']);
    await expect(one.enqueuer.enqueue(job('r1'))).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_UNAVAILABLE' });
    expect(one.log).toEqual(['p0:r1']);
  });

  it('gives up on a hung partition after half the deadline and lands the job on another in time', async () => {
    // Without the bound the hung add would never settle and the test would time out.
    const { enqueuer, log } = enqueuerOf(['hang', 'ok'], { timeoutMs: 3000 });
    await enqueuer.enqueue(job('r1'));
    expect(log).toEqual(['p0:r1', 'p1:r1']);
  });

  it('with replicated, a WAIT short of replicas is a failure of that partition, retried elsewhere', async () => {
    const short = enqueuerOf(['ok', 'ok'], { durability: 'replicated', acknowledged: 0 });
    await expect(short.enqueuer.enqueue(job('r1'))).rejects.toMatchObject({ code: 'SIDECAR_ERR_QUEUE_UNAVAILABLE' });
    expect(short.log).toEqual(['p0:r1', 'p1:r1']);
    const enough = enqueuerOf(['ok', 'ok'], { durability: 'replicated', acknowledged: 1 });
    await enough.enqueuer.enqueue(job('r2'));
    expect(enough.log).toEqual(['p0:r2']);
  });
});
