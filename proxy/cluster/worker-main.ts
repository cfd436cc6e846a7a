import cluster from 'node:cluster';

import { AggregatorRegistry } from 'prom-client';

import { loadConfig } from '../../config/load';
import { runtimeConfig } from '../../config/runtime';
import { describeForOperator, SidecarError } from '../../core/errors';
import { closingMs, installShutdown } from '../../core/lifecycle';
import { createLogger } from '../../core/log';
import { redact } from '../../core/redact';
import { startProxyWorker } from '../proxy';
import { parsePrimaryMessage, type WorkerMessage } from './messages';

/**
 * One proxy process of server.workers, forked by the primary (proxy/cluster/primary.ts): it waits for the
 * configuration, opens the shared intake port and serves it until SIGTERM drains it, as a single proxy does.
 * Its metrics reach the primary's /metrics through prom-client's AggregatorRegistry, its readiness on request.
 */
function send(message: WorkerMessage): void {
  process.send?.(message);
}

async function run(settings: Record<string, unknown>): Promise<void> {
  // Validated again here, at the edge of this process: what arrives over IPC is not trusted as typed.
  const { config } = loadConfig({ env: {}, overrides: settings });
  const worker = cluster.worker?.id ?? 0;
  const logger = createLogger({ name: 'proxy', level: config.log.level, format: config.log.format }).child({
    worker,
  });
  const proxy = await startProxyWorker(config, logger);
  AggregatorRegistry.setRegistries([proxy.registry]);
  // Only its constructor installs the listener that answers the primary's requests for metrics.
  new AggregatorRegistry();
  process.on('message', (raw: unknown) => {
    const message = parsePrimaryMessage(raw);
    if (message?.type !== 'apm-sidecar:readiness-request') return;
    send({ type: 'apm-sidecar:readiness', requestId: message.requestId, readiness: proxy.readiness() });
  });
  installShutdown({
    logger,
    drain: proxy.close,
    deadlineMs: runtimeConfig(config).ms['server.shutdown_timeout'] + closingMs,
  });
  send({ type: 'apm-sidecar:listening', host: proxy.intake.host, port: proxy.intake.port });
}

const onConfig = (raw: unknown): void => {
  const message = parsePrimaryMessage(raw);
  if (message?.type !== 'apm-sidecar:config') return;
  process.off('message', onConfig);
  run(message.config).catch((err: unknown) => {
    send(
      err instanceof SidecarError
        ? { type: 'apm-sidecar:fatal', code: err.code, message: redact(err.message), remediation: err.remediation }
        : { type: 'apm-sidecar:fatal', code: 'SIDECAR_ERR_INTERNAL', message: describeForOperator(err) },
    );
    // The primary reports it and stops; this process ends whatever a half-started part still holds open.
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 500).unref();
  });
};
process.on('message', onConfig);
// SIGHUP means "reload" here, never "end": one that reaches a worker before its reloaders listen (a hangup of the
// whole process group) is ignored, as the files are read at start anyway.
process.on('SIGHUP', () => undefined);
