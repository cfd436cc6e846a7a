import { randomBytes, randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { DeadLetterQueue, type StoredEntry } from '../../../queue/dead-letter';
import { replayDeadLetters } from '../../../queue/dead-letter/replay';
import {
  createWriter,
  enqueue,
  forwarderConfig,
  intakeJob,
  transactionLine,
  waitFor,
  type Writer,
} from '../../integration/forwarder/support';
import type { FaultPlan } from '../../support/es-standin/faults';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { recordScenario } from '../../support/oracle';
import { RedisServer } from '../../support/redis';

/**
 * The per-event oracle of the fault suite: jobs enqueued as the proxy enqueues them (each one an acknowledged
 * request), a forwarder in this process, the stand-in with a fault plan; after the fault clears, every enqueued
 * event must be indexed exactly once. The figures of each run go to the suite's results (test/support/oracle.ts),
 * from which scripts/fault-table.ts writes the table in docs/operations.md. Here *lost* counts every enqueued
 * event not indexed, dead-lettered ones included.
 */
export interface Figures {
  readonly scenario: string;
  readonly acknowledged: number;
  readonly indexed: number;
  readonly lost: number;
  readonly doubled: number;
  readonly deadLettered: number;
  /** Documents stored per second while the fault was on. */
  readonly faultRate: number;
  /** Documents stored per second before the fault (when the scenario measures it). */
  readonly healthyRate: number | null;
  /** Seconds from clearing the fault until every event was indexed. */
  readonly drainSeconds: number;
  readonly itemsByStatus: Record<string, number>;
  readonly faultsApplied: Record<string, number>;
}

export interface ScenarioOptions {
  readonly name: string;
  /** What the fault is, in a few words, for the table in docs/operations.md. */
  readonly fault: string;
  readonly jobs: number;
  readonly eventsPerJob: number;
  readonly faults: FaultPlan;
  /** How long the fault stays on once the forwarder runs (ms). */
  readonly faultMs: number;
  /** Run healthy this long first and measure the rate (ms). */
  readonly healthyMs?: number;
  /** Extra bytes per event (a `context.custom` string), to make bulks big. */
  readonly padding?: number;
  readonly forwarder?: Record<string, unknown>;
  /** The fault was the operator's to fix: once the queue drained, `dlq replay` what was dead-lettered (then the oracle). */
  readonly replayAfter?: boolean;
  /** How long the drain may take after the fault clears (ms). */
  readonly drainTimeoutMs?: number;
}

export class FaultHarness {
  logs = new LogSink();
  private forwarder: Forwarder | undefined;
  private queue: Queue | undefined;
  private seq = 0;
  private runs = 0;

  private constructor(
    readonly redis: RedisServer,
    readonly standin: EsStandin,
    readonly writer: Writer,
  ) {}

  static async start(): Promise<FaultHarness> {
    const redis = await RedisServer.start();
    const standin = await EsStandin.start();
    return new FaultHarness(redis, standin, await createWriter(standin));
  }

  async close(): Promise<void> {
    await this.stopRun();
    await this.standin.close();
    await this.redis.destroy();
  }

  async stopRun(): Promise<void> {
    await this.forwarder?.close();
    this.forwarder = undefined;
    if (this.queue !== undefined) {
      await this.queue.obliterate({ force: true });
      await this.queue.close();
      await (await this.queue.client).quit();
      this.queue = undefined;
    }
  }

  /** Enqueues the jobs, runs the forwarder through the fault, clears it, and checks the oracle. */
  async run(options: ScenarioOptions): Promise<Figures & { deadLetters: StoredEntry[] }> {
    const queueName = `faults-${randomUUID()}`;
    const namespace = `f${++this.runs}`;
    const connection = new Redis(this.redis.url, { maxRetriesPerRequest: null });
    this.queue = new Queue(queueName, { connection });
    const first = this.seq;
    // Random padding: it must not compress away, or a size limit on compressed bulks is never reached.
    const pad = (): Record<string, unknown> =>
      options.padding === undefined
        ? {}
        : { context: { custom: { pad: randomBytes(Math.ceil(options.padding / 2)).toString('hex') } } };
    for (let j = 0; j < options.jobs; j++) {
      const lines = Array.from({ length: options.eventsPerJob }, () => transactionLine(this.seq++, pad()));
      await enqueue(this.queue, intakeJob(lines));
    }
    const acknowledged = this.seq - first;
    this.standin.resetCounters();
    this.standin.setFaults(options.healthyMs === undefined ? options.faults : {});
    const config = forwarderConfig(
      this.redis.url,
      queueName,
      { standin: this.standin, writer: this.writer },
      { data_streams: { namespace }, ...options.forwarder },
    );
    this.forwarder = await startForwarder(config, this.logs.logger('forwarder', 'info'));
    const stored = (): number => this.standin.counters.documentsStored;
    let healthyRate: number | null = null;
    if (options.healthyMs !== undefined) {
      await waitFor('the first documents', () => stored() > 0);
      const before = stored();
      await sleep(options.healthyMs);
      healthyRate = (stored() - before) / (options.healthyMs / 1000);
      this.standin.setFaults(options.faults);
    }
    const atFault = stored();
    await sleep(options.faultMs);
    const faultRate = (stored() - atFault) / (options.faultMs / 1000);
    const { itemsByStatus, faultsApplied } = this.standin.counters;
    this.standin.setFaults({});
    const cleared = Date.now();
    const deadLetters = new DeadLetterQueue(connection, queueName, { maxEntries: 1_000_000, maxAgeMs: 86_400_000 });
    const settled = async (): Promise<boolean> => {
      const counts = await this.queue?.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return counts !== undefined && Object.values(counts).every((n) => n === 0);
    };
    await waitFor('the queue drains after the fault clears', settled, options.drainTimeoutMs ?? 60_000);
    const dead = (await deadLetters.page(0, 1_000_000)).entries;
    if (options.replayAfter === true && dead.length > 0) {
      await replayDeadLetters(deadLetters, this.queue, 1000, { reason: undefined });
      await waitFor('the replayed entries are delivered', settled, options.drainTimeoutMs ?? 60_000);
    }
    const drainSeconds = (Date.now() - cleared) / 1000;
    const ids = this.standin.documents(`traces-apm*-${namespace}`).flatMap((d) => transactionSeq(d.source));
    const unique = new Set(ids);
    let lost = 0;
    for (let s = first; s < this.seq; s++) if (!unique.has(s)) lost++;
    const figures: Figures = {
      scenario: options.name,
      acknowledged,
      indexed: unique.size,
      lost,
      doubled: ids.length - unique.size,
      deadLettered: dead.length,
      faultRate: Math.round(faultRate),
      healthyRate: healthyRate === null ? null : Math.round(healthyRate),
      drainSeconds: Math.round(drainSeconds * 10) / 10,
      itemsByStatus,
      faultsApplied,
    };
    record(figures, options.fault, options.replayAfter === true);
    return { ...figures, deadLetters: dead };
  }
}

function transactionSeq(source: Record<string, unknown>): number[] {
  const tx = source['transaction'];
  return tx !== null && typeof tx === 'object' && 'id' in tx && typeof tx.id === 'string' ? [parseInt(tx.id, 16)] : [];
}

function record(figures: Figures, fault: string, replayed: boolean): void {
  const notes = [
    ...(figures.healthyRate === null ? [] : [`healthy rate ${figures.healthyRate}/s`]),
    `${figures.itemsByStatus['409'] ?? 0} items answered 409`,
    `faults applied ${JSON.stringify(figures.faultsApplied)}`,
  ].join(', ');
  recordScenario({
    scenario: figures.scenario,
    fault,
    acknowledged: figures.acknowledged,
    indexed: figures.indexed,
    lost: figures.lost,
    doubled: figures.doubled,
    rateDuringFault: figures.faultRate,
    drainSeconds: figures.drainSeconds,
    deadLettered: figures.deadLettered,
    replayed,
    notes,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
