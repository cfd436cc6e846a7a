import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import { limitHeapGrowth } from '../core/heap-growth';
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
