import os from 'node:os';

import { Queue } from 'bullmq';

import { settingName } from '../config/leaves';
import { requireRedisTarget } from '../config/redis-target';
import { runtimeConfig } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { AdminServer, type RunningProcess } from '../core/admin-server';
import { closeAll, closeOnce } from '../core/lifecycle';
import { explainListenFailure, type ListenAddress } from '../core/listen';
import type { Logger } from '../core/log';
import { createRegistry, metricPrefix } from '../core/metrics';
import { startMetricsLog } from '../core/metrics-log';
import { createEsClient } from '../elasticsearch/client';
import { queueWorkerConnection } from '../queue/connections';
import { DeadLetterQueue } from '../queue/dead-letter';
import { UnreadableJobs } from '../queue/dead-letter/unreadable';
import { partitionsOf } from '../queue/partitions';
import { verifyMasters } from '../queue/redis-checks';
import { RedisSafetyWatch } from '../queue/redis-safety';
import { BulkBatcher } from './batch/bulk-batcher';
import { combineObservers } from './batch/observers';
import { DeliveryMonitor } from './delivery-monitor';
import { JobAdmission } from './job-admission';
import { JobProcessor, quarantinedReason } from './job-processor';
import { JobStarts } from './job-starts';
import { ForwarderMetrics } from './metrics';
import { ElasticsearchSink } from './output/elasticsearch-sink';
import { FileSink } from './output/file-sink';
import type { BulkSink } from './output/sink';
import { PartitionWorkers } from './partition-workers';
import { registerQueueMetrics } from './queue-metrics';
import { forwarderReadiness } from './readiness';
import { createRumFrameProcessor } from './sourcemap/rum-frames';
import { ForwarderWorker } from './worker';

/** How often an idle forwarder reads Redis' safety (maxmemory-policy) by itself; every second while jobs flow. */
const idleSafetyCheckMs = 30_000;

/** close() stops taking jobs and finishes (or hands back) those in hand within server.shutdown_timeout. */
export type Forwarder = RunningProcess;

/** APM Server sizes bulk concurrency by memory; a forwarder process is bound by CPU, so by that. */
function maxRequestsFor(configured: number): number {
  return configured > 0 ? configured : Math.max(2, os.availableParallelism() * 2);
}

/**
 * Connects, checks Redis, starts the admin endpoints and the worker (once Elasticsearch is ready). `adminListen`
 * replaces admin.host where the proxy already holds it (`apm-sidecar start`: same interface, any free port).
 */
export async function startForwarder(
  config: SidecarConfig,
  logger: Logger,
  adminListen?: ListenAddress,
): Promise<Forwarder> {
  const redisTarget = requireRedisTarget(config, 'forwarder');
  const { ms, listen, elasticsearch } = runtimeConfig(config);
  const es = config.output.elasticsearch;
  // Before Redis: an unreadable CA file is a config error, reported without a connection left open.
  const client = es.hosts.length > 0 ? createEsClient(elasticsearch, {}, { logger }) : undefined;
  // The one Redis, or a Redis Cluster (each partition's queue on the master owning its hash tag's slot).
  const connection = queueWorkerConnection(redisTarget);
  try {
    await connection.connect();
    // Every master the queue lives on (the one Redis, or each master of a cluster, named when it is unsafe).
    await verifyMasters(connection, 'applied', 0);
  } catch (err) {
    connection.disconnect();
    throw err;
  }

  const registry = createRegistry('forwarder');
  const metrics = new ForwarderMetrics(registry);
  const sink: BulkSink =
    client !== undefined
      ? new ElasticsearchSink(client, es.compression_level)
      : new FileSink(config.path.data, config.output.file.rotate_bytes);
  const backoff = { initMs: ms['output.elasticsearch.backoff.init'], maxMs: ms['output.elasticsearch.backoff.max'] };
  const monitor = new DeliveryMonitor(client, logger, backoff);
  // One batcher and one admission for every partition: N partitions do not multiply the jobs worked on at once
  // (forwarder.concurrency, forwarder.max_inflight_bytes) nor the bulks in flight (output.elasticsearch.max_requests).
  const batcher = new BulkBatcher(
    sink,
    {
      flushBytes: es.flush_bytes,
      flushIntervalMs: ms['output.elasticsearch.flush_interval'],
      maxRequests: maxRequestsFor(es.max_requests),
      maxSubmitters: Math.max(config.forwarder.concurrency, 1),
      backoff,
    },
    combineObservers(metrics.batcherObserver(), monitor.observer()),
  );
  const admission = new JobAdmission(config.forwarder.max_inflight_bytes, Math.max(config.forwarder.concurrency, 1));
  const rumFrames = createRumFrameProcessor(config, client, logger);
  const parts = partitionsOf(config.queue.name, config.queue.partitions).map((partition) => {
    const queue = new Queue(partition.queueName, { connection });
    const deadLetters: DeadLetterQueue = new DeadLetterQueue(connection, partition, {
      maxEntries: config.queue.dead_letter.max_entries,
      maxAgeMs: ms['queue.dead_letter.max_age'],
      whenFull: config.queue.dead_letter.when_full,
      onFull: () =>
        monitor.deadLetterQueueFull(partition.label, config.queue.partitions > 1, () => deadLetters.hasRoom()),
    });
    const unreadable = new UnreadableJobs(connection, partition);
    const processor = new JobProcessor(batcher, deadLetters, metrics, logger, {
      namespace: config.data_streams.namespace,
      maxRequestBytes: config.server.max_request_size,
      rumFrames,
      admission,
      // A job hands the batcher a bulk's worth at a time, so its bulks fill by bytes, not by flush_interval.
      submitBytes: es.flush_bytes,
      starts: new JobStarts(connection, partition),
    });
    const onUnreadable = async (job: { id?: string; name: string }, reason: string): Promise<void> => {
      await unreadable.record(job.id ?? '', job.name, reason);
      countUnreadable();
      // A quarantined job is kept in the same registry, counted by the processor.
      if (!reason.startsWith(quarantinedReason)) metrics.jobsUnreadable.inc();
    };
    const create = (): ForwarderWorker =>
      new ForwarderWorker(
        {
          queueName: partition.queueName,
          concurrency: config.forwarder.concurrency,
          connection,
          onUnreadable,
          onSettled: (result) => {
            metrics.jobs.inc({ result });
            // While jobs flow, Redis' safety is read again at most every second (check() skips fresher reads).
            void safety.check().catch(() => undefined);
            // A settled job may be one an operator replayed (`dlq replay`): what /readyz shows is recounted soon.
            if (unreadableCount + quarantinedCount > 0) recountSoon();
          },
        },
        processor,
        logger.child({ partition: partition.label }),
      );
    return { partition, queue, deadLetters, unreadable, create, waiting: () => queue.getWaitingCount() };
  });
  registerQueueMetrics(registry, parts);
  const worker = new PartitionWorkers(parts, logger, {
    stuckAfterMs: ms['forwarder.stuck_worker_timeout'],
    onRestart: (partition) => metrics.workerRestarts.inc({ partition: partition.label }),
  });
  monitor.attach(worker);
  // Checked at start above (fatal); from then on, on every reconnection, every second while jobs settle and every
  // 30 s when idle: stop taking jobs instead. An idle forwarder holds no job, and the first jobs after an idle
  // spell were acknowledged by a proxy that read Redis' safety again first (QueueDepthMonitor.admit).
  // On a cluster each check reads every master the connection knows then, so a promoted replica is read too.
  const safety = new RedisSafetyWatch(connection, {
    durability: 'applied',
    replicas: 0,
    onChange: (next) => monitor.redisSafety(next),
  });

  // /readyz names what is kept for the operator: unreadable jobs do not stop this forwarder, but need a human.
  let unreadableCount = 0;
  let quarantinedCount = 0;
  const countUnreadable = (): void =>
    void Promise.all(parts.map((p) => p.unreadable.list())).then(
      (lists) => {
        const jobs = lists.flat();
        quarantinedCount = jobs.filter((j) => j.reason.startsWith(quarantinedReason)).length;
        unreadableCount = jobs.length - quarantinedCount;
      },
      () => undefined,
    );
  let lastRecount = 0;
  const recountSoon = (): void => {
    if (Date.now() - lastRecount < 1000) return;
    lastRecount = Date.now();
    countUnreadable();
  };
  countUnreadable();
  // Recounted after each job this forwarder sets aside (onUnreadable), at most every second while jobs settle and
  // some are shown (a replay empties the registry), and every 30 s for other forwarders' ones.
  const unreadableTimer = setInterval(countUnreadable, 30_000).unref();
  const readiness = () => forwarderReadiness(monitor.readiness(), unreadableCount, quarantinedCount);
  const admin = new AdminServer({ listen: adminListen ?? listen.admin, registry, readiness, logger });
  const metricsLog = startMetricsLog({
    registry,
    logger,
    periodMs: ms['log.metrics_period'],
    counters: [
      `${metricPrefix}forwarder_jobs_total`,
      `${metricPrefix}documents_total`,
      `${metricPrefix}document_retries_total`,
    ],
  });
  const close = closeOnce(async () => {
    metricsLog.close();
    clearInterval(unreadableTimer);
    safety.stop();
    monitor.stop();
    batcher.drain();
    await worker.close(ms['server.shutdown_timeout']);
    await closeAll([
      () => batcher.close(),
      () => sink.close(),
      ...parts.map((p) => () => p.queue.close()),
      () => admin.close(),
    ]);
    await connection.quit().catch(() => connection.disconnect());
  });
  const adminAddress = await admin.start().catch(async (err: unknown) => {
    await close().catch(() => undefined);
    return explainListenFailure(settingName('admin.host'), config.admin.host)(err);
  });
  if (client === undefined)
    logger.info(
      { directory: `${config.path.data}/documents` },
      'no output.elasticsearch.hosts: writing documents as ndjson files',
    );
  monitor.start();
  safety.start(idleSafetyCheckMs);

  return { admin: adminAddress, registry, readiness, close };
}
