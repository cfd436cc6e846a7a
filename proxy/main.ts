import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { closingMs, installShutdown } from '../core/lifecycle';
import { createLogger, type Logger } from '../core/log';
import type { RunningProxyCluster } from './cluster/primary';

/*
 * Each way of running loads only its own modules: a single proxy never holds node:cluster and the primary's
 * aggregation, and a primary (which serves no intake) never holds the intake, its schemas and the queue client.
 * Synchronous requires, because import() stays an ES module import under Node16 resolution, which jest's
 * CommonJS VM cannot run.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
function loadPrimary(): Pick<typeof import('./cluster/primary'), 'startProxyCluster'> {
  return require('./cluster/primary') as typeof import('./cluster/primary');
}

function loadProxy(): Pick<typeof import('./proxy'), 'startProxy'> {
  return require('./proxy') as typeof import('./proxy');
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** One proxy process (server.workers 1, the default) or a primary supervising server.workers of them. */
export async function startProxies(config: SidecarConfig, logger: Logger): Promise<RunningProxyCluster> {
  if (config.server.workers > 1) return loadPrimary().startProxyCluster(config, logger);
  const proxy = await loadProxy().startProxy(config, logger);
  return { intake: proxy.intake, admin: proxy.admin, close: proxy.close, kill: () => undefined };
}

/**
 * `apm-sidecar proxy`: load config, make the logger, check the TLS and credential rules, connect to a Redis that
 * cannot lose accepted data, open the intake and admin listeners; SIGTERM turns readiness off, answers new
 * requests 503 and lets in-flight ones finish within server.shutdown_timeout (a second signal exits at once).
 */
export async function runProxy(loaded: LoadedConfig): Promise<void> {
  const logger = createLogger({ name: 'proxy', level: loaded.config.log.level, format: loaded.config.log.format });
  const proxy = await startProxies(loaded.config, logger);
  installShutdown({
    logger,
    drain: proxy.close,
    // The workers of server.workers have this bound each; the primary waits a little longer for their exits.
    deadlineMs: runtimeConfig(loaded.config).ms['server.shutdown_timeout'] + closingMs + 2000,
    exit: (code) => {
      proxy.kill();
      process.exit(code);
    },
  });
}
