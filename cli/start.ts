import fs from 'node:fs';
import path from 'node:path';

import type { LoadedConfig } from '../config/load';
import { redisTargetOf } from '../config/redis-target';
import { runtimeConfig } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { tlsEnabled } from '../config/tls-settings';
import { limitHeapGrowth } from '../core/heap-growth';
import { closeOnce, closingMs, installShutdown, watchParent } from '../core/lifecycle';
import type { ListenAddress } from '../core/listen';
import { createLogger, type Logger } from '../core/log';
import { startForwarder } from '../forwarder/forwarder';
import { tokenValue } from '../proxy/auth/secret-tokens';
import { startProxies } from '../proxy/main';
import { formatAgentSettings, serverUrlFor } from './start/agent-settings';
import { claimDataDir } from './start/data-dir-lock';
import { ensureLocalTls, ensureSecretToken } from './start/local-credentials';
import { PrivateRedisServer } from './start/redis-server';

/** Something start runs; stopped in reverse order of starting. */
interface StartedComponent {
  readonly name: string;
  close(): Promise<void>;
}

type Progress = (line: string) => void;

const adminUrl = (at: ListenAddress): string => serverUrlFor(false, at.host, at.port);

interface Prepared {
  readonly config: SidecarConfig;
  readonly caFile: string | undefined;
}

/**
 * Fills what a first try lacks, each kept in path.data and reused next time: a local CA and server certificate
 * when no certificate is configured, a secret token when none is, a private redis-server when no Redis URL is.
 */
async function prepare(loaded: SidecarConfig, components: StartedComponent[], progress: Progress): Promise<Prepared> {
  const config = structuredClone(loaded);
  const dataDir = path.resolve(config.path.data);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = claimDataDir(dataDir);
  components.push({ name: 'data directory lock', close: () => Promise.resolve(release()) });
  progress(`data directory: ${dataDir}`);
  let caFile: string | undefined;
  if (config.server.ssl.certificate === null && config.server.ssl.enabled !== false) {
    const tls = ensureLocalTls(dataDir);
    progress(
      `TLS: ${tls.created ? 'created' : 'reusing'} a local CA and server certificate in ${path.dirname(tls.caFile)}`,
    );
    Object.assign(config.server.ssl, { certificate: tls.certificateFile, key: tls.keyFile, enabled: true });
    caFile = tls.caFile;
  }
  if (config.server.auth.secret_tokens.length === 0 && !config.server.auth.api_key.enabled) {
    const secret = ensureSecretToken(dataDir);
    progress(`secret token: ${secret.created ? 'generated' : 'reusing'} ${secret.file}`);
    config.server.auth.secret_tokens = [secret.token];
  }
  if (redisTargetOf(config.queue.redis) === null) {
    progress('redis-server: starting a private one (AOF on, noeviction)');
    const redis = await PrivateRedisServer.start({
      dir: path.join(dataDir, 'redis'),
      port: 0,
      fsyncAlways: config.queue.durability === 'fsync',
    });
    components.push({ name: 'redis-server', close: () => redis.close() });
    progress(`redis-server: ready at ${redis.url}, data in ${path.join(dataDir, 'redis')}`);
    config.queue.redis.url = redis.url;
  }
  return { config, caFile };
}

/** Components after the first `foundations` (lock, redis-server) stop together, each within server.shutdown_timeout. */
async function stopAll(components: readonly StartedComponent[], foundations: number): Promise<void> {
  const failures: unknown[] = [];
  const keep = (err: unknown): void => void failures.push(err);
  // The proxy and forwarder drain together, into Redis; Redis and the lock go last, in reverse.
  await Promise.all(components.slice(foundations).map(async (c) => c.close().catch(keep)));
  for (const component of components.slice(0, foundations).reverse()) await component.close().catch(keep);
  if (failures.length > 0) throw new AggregateError(failures, 'some components failed to stop');
}

/** `apm-sidecar start`: everything on this machine for a first try; Ctrl-C stops everything it started. */
export async function runStart(loaded: LoadedConfig): Promise<void> {
  limitHeapGrowth();
  const progress: Progress = (line) => process.stdout.write(`apm-sidecar start: ${line}\n`);
  const { level, format } = loaded.config.log;
  const loggerFor = (name: string): Logger => createLogger({ name, level, format });
  const logger = loggerFor('start');
  const components: StartedComponent[] = [];
  let foundations = 0;
  const stop = closeOnce(() => stopAll(components, foundations));
  let killProxy = (): void => undefined;
  let settings = '';
  try {
    const { config, caFile } = await prepare(loaded.config, components, progress);
    foundations = components.length;
    progress('proxy: starting');
    const proxy = await startProxies(config, loggerFor('proxy'));
    components.push({ name: 'proxy', close: proxy.close });
    killProxy = proxy.kill;
    const serverUrl = serverUrlFor(tlsEnabled(config.server.ssl), proxy.intake.host, proxy.intake.port);
    progress(`proxy: listening on ${serverUrl}; /healthz, /readyz and /metrics on ${adminUrl(proxy.admin)}`);
    // The proxy has admin.host; the forwarder's admin endpoints take any free port on the same interface.
    const forwarder = await startForwarder(config, loggerFor('forwarder'), { host: proxy.admin.host, port: 0 });
    components.push({ name: 'forwarder', close: forwarder.close });
    const output =
      config.output.elasticsearch.hosts.length > 0
        ? config.output.elasticsearch.hosts.join(', ')
        : `ndjson files in ${path.resolve(config.path.data, 'documents')}`;
    progress(`forwarder: writing to ${output}; /healthz, /readyz and /metrics on ${adminUrl(forwarder.admin)}`);
    settings = formatAgentSettings({
      serverUrl,
      secretToken: tokenValue(config.server.auth.secret_tokens[0] ?? ''),
      serverCaCertFile: caFile,
    });
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const shutdown = installShutdown({
    logger,
    drain: stop,
    // shutdown_timeout for the proxy and forwarder, then a little for them and Redis to close.
    deadlineMs: runtimeConfig(loaded.config).ms['server.shutdown_timeout'] + closingMs + 5000,
    exit: (code) => {
      killProxy();
      process.exit(code);
    },
  });
  // Run from a shell or supervisor that dies without signalling (a closed terminal, a SIGKILLed npm): stop too.
  watchParent(() => shutdown.begin('parent process exited'));
  // "Press Ctrl-C" only once Ctrl-C drains: until a handler is installed, SIGINT/SIGTERM kill the process outright.
  process.stdout.write(settings);
}
