import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import { closingMs, installShutdown } from '../core/lifecycle';
import { createLogger } from '../core/log';
import { startProxy } from './proxy';

export { type RunningProxy, startProxy } from './proxy';

/**
 * `apm-sidecar proxy`: load config, make the logger, check the TLS and credential rules, connect to a Redis that
 * cannot lose accepted data, open the intake and admin listeners; SIGTERM turns readiness off, answers new
 * requests 503 and lets in-flight ones finish within server.shutdown_timeout (a second signal exits at once).
 */
export async function runProxy(loaded: LoadedConfig): Promise<void> {
  const logger = createLogger({ name: 'proxy', level: loaded.config.log.level, format: loaded.config.log.format });
  const proxy = await startProxy(loaded.config, logger);
  installShutdown({
    logger,
    drain: proxy.close,
    deadlineMs: runtimeConfig(loaded.config).ms['server.shutdown_timeout'] + closingMs,
  });
}
