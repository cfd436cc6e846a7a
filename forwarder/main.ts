import v8 from 'node:v8';

import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import { closingMs, installShutdown } from '../core/lifecycle';
import { createLogger } from '../core/log';
import { startForwarder } from './forwarder';

/**
 * `apm-sidecar forwarder`: load config, make the logger, connect to Redis, wait for Elasticsearch's
 * preconditions (the proxy keeps accepting meanwhile), drain the queue; SIGTERM finishes or hands back the jobs
 * in hand within server.shutdown_timeout and exits 0.
 */
export async function runForwarder(loaded: LoadedConfig): Promise<void> {
  limitHeapGrowth();
  const { config } = loaded;
  const logger = createLogger({ name: 'forwarder', level: config.log.level, format: config.log.format });
  const forwarder = await startForwarder(config, logger);
  logger.info(
    {
      queue: config.queue.name,
      partitions: config.queue.partitions,
      concurrency: config.forwarder.concurrency,
      admin: forwarder.admin,
    },
    'forwarder started',
  );
  // The process lives on its handles (worker, admin server) until a signal drains it and exits.
  installShutdown({
    logger,
    drain: () => forwarder.close(),
    deadlineMs: runtimeConfig(config).ms['server.shutdown_timeout'] + closingMs,
  });
}

/**
 * The old generation may grow by half its live size between two major collections (V8 reads the factor at each
 * one, so setting it at start applies). At its default V8 lets it grow up to 4x when collections are rare: the
 * forwarder lives on about 30 MB, but its documents wait for their bulk's answer long enough to be promoted, and
 * that garbage piled up to 120 MB before each collection (end-to-end bench: peak RSS 221-231 MiB, 154 with
 * this). More frequent major collections of a small live heap cost little.
 */
function limitHeapGrowth(): void {
  // A factor given on the command line (node --heap-growing-percent=N) wins.
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return;
  v8.setFlagsFromString('--heap-growing-percent=50');
}
