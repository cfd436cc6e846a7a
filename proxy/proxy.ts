import { settingName } from '../config/leaves';
import { requireRedisTarget } from '../config/redis-target';
import { runtimeConfig } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { AdminServer, type Readiness, type RunningProcess } from '../core/admin-server';
import { closeAll, closeOnce } from '../core/lifecycle';
import { explainListenFailure } from '../core/listen';
import type { Logger } from '../core/log';
import { createRegistry, metricPrefix } from '../core/metrics';
import { startMetricsLog } from '../core/metrics-log';
import { createAgentConfigEndpoint } from './agent-config';
import { agentConfigRoute } from './agent-config/route';
import { RequestAuthenticator } from './auth/authenticate';
import { NetworkAllowList } from './auth/networks';
import { SecretTokenVerifier, TokenFileWatcher } from './auth/secret-tokens';
import { intakeHandler } from './intake/handler';
import { HeapReclaimer } from './intake/heap-reclaimer';
import { MemoryBudget } from './intake/memory-budget';
import { startIntakeQueue } from './intake-queue';
import { ProxyMetrics } from './metrics';
import { GrpcIntake } from './otlp/grpc';
import { otlpHandler } from './otlp/handler';
import { otlpErrorBody } from './otlp/response';
import { createUpstreamPassthrough, upstreamSettingsFrom } from './passthrough';
import { passthroughRoute } from './passthrough/route';
import { assertProxyStartable } from './preflight';
import { proxyReadiness } from './readiness';
import { rootHandler } from './root';
import { RouteTable } from './routes';
import { createRumRoutes } from './rum';
import { type ListenAddress, ProxyServer } from './server';

export interface RunningProxy extends RunningProcess {
  readonly intake: ListenAddress;
  readonly server: ProxyServer;
}

/**
 * API-key verification, loaded only when server.auth.api_key.enabled: @elastic/elasticsearch is the largest module
 * a proxy would otherwise hold (~10 MB of RSS). A synchronous require, because import() stays an ES module import
 * under Node16 resolution, which jest's CommonJS VM cannot run.
 */
function loadApiKeyVerifier(): Pick<typeof import('./auth/api-key-verifier'), 'createApiKeyVerifier'> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  return require('./auth/api-key-verifier') as typeof import('./auth/api-key-verifier');
}

/** The proxy without its admin listener: one process of server.workers, whose primary serves admin.host. */
type ProxyWorker = Omit<RunningProxy, 'admin' | 'readiness'> & { readonly readiness: () => Readiness };

/** Checks the config, connects to a safe Redis, then opens the intake and admin listeners. */
export async function startProxy(config: SidecarConfig, logger: Logger): Promise<RunningProxy> {
  const worker = await startProxyWorker(config, logger);
  const admin = new AdminServer({
    listen: runtimeConfig(config).listen.admin,
    registry: worker.registry,
    readiness: worker.readiness,
    logger,
  });
  // The admin listener outlives the drain, so /readyz says "shutting down" while in-flight requests finish.
  const close = closeOnce(async () => worker.close().finally(admin.close));
  const adminAddress = await admin.start().catch(async (err: unknown) => {
    await close().catch(() => undefined);
    return explainListenFailure(settingName('admin.host'), config.admin.host)(err);
  });
  return { ...worker, admin: adminAddress, close };
}

/** Checks the config, connects to a safe Redis, then opens the intake listener. */
export async function startProxyWorker(config: SidecarConfig, logger: Logger): Promise<ProxyWorker> {
  const { server: s, queue: q } = config;
  const tls = assertProxyStartable(config, logger);
  const redisTarget = requireRedisTarget(config, 'proxy');
  const { ms, listen } = runtimeConfig(config);
  const metrics = new ProxyMetrics(createRegistry('proxy'));
  const upstream = upstreamSettingsFrom(config.upstream, ms['upstream.timeout']);
  const agentConfig = createAgentConfigEndpoint(config, { logger, registry: metrics.registry, upstream });
  const passthrough = createUpstreamPassthrough(config, { logger, registry: metrics.registry, upstream });
  const queue = await startIntakeQueue(q, redisTarget, ms['queue.redis.command_timeout'], metrics, logger);
  const monitor = queue.admission;
  const apiKeys = s.auth.api_key.enabled ? loadApiKeyVerifier().createApiKeyVerifier(config, logger) : undefined;
  const tokens = new SecretTokenVerifier(s.auth.secret_tokens);
  const tokenFile = s.auth.secret_tokens_file;
  const tokenWatcher =
    tokenFile === null || tokenFile === ''
      ? undefined
      : new TokenFileWatcher(tokenFile, tokens, logger, ms['server.ssl.reload_interval']);
  const authenticator = new RequestAuthenticator(tokens, apiKeys);
  const reclaimer = new HeapReclaimer(s.max_inflight_bytes / 4);
  const budget = new MemoryBudget(s.max_inflight_bytes, reclaimer);
  const intakeDeps = {
    backpressure: monitor,
    enqueuer: queue.enqueuer,
    limits: { maxEventSize: s.max_event_size, maxRequestSize: s.max_request_size },
    metrics,
    logger,
    budget,
  };
  const rum = createRumRoutes(s, intakeDeps, runtimeConfig(config).networks.trustedProxies);
  const routes = new RouteTable({
    authenticator,
    intake: intakeHandler(intakeDeps),
    otlp: {
      traces: otlpHandler('traces', intakeDeps),
      metrics: otlpHandler('metrics', intakeDeps),
      logs: otlpHandler('logs', intakeDeps),
      errorBody: otlpErrorBody,
    },
    ...(rum === undefined ? {} : { rum }),
    root: rootHandler(() => monitor.current().state !== 'unavailable'),
    agentConfig: agentConfigRoute(agentConfig),
    ...(passthrough === null ? {} : { fallback: passthroughRoute(passthrough) }),
  });
  const networks = new NetworkAllowList(runtimeConfig(config).networks.allowed);
  const grpc = s.otlp.grpc
    ? new GrpcIntake({
        deps: intakeDeps,
        authenticator,
        networks,
        readTimeoutMs: ms['server.read_timeout'],
        accepting: () => server.accepting,
      })
    : undefined;
  const server: ProxyServer = new ProxyServer({
    listen: listen.intake,
    tls,
    routes,
    networks,
    readTimeoutMs: ms['server.read_timeout'],
    idleTimeoutMs: ms['server.idle_timeout'],
    shutdownTimeoutMs: ms['server.shutdown_timeout'],
    certificatePollMs: ms['server.ssl.reload_interval'],
    maxConnections: s.max_connections,
    maxHeaderSize: s.max_header_size,
    metrics,
    logger,
    ...(grpc === undefined ? {} : { http2: grpc }),
  });
  const readiness = (): Readiness => proxyReadiness(server, monitor, q);
  const metricsLog = startMetricsLog({
    registry: metrics.registry,
    logger,
    periodMs: ms['log.metrics_period'],
    counters: [`${metricPrefix}intake_requests_total`, `${metricPrefix}intake_events_total`],
  });
  const close = closeOnce(async () => {
    metricsLog.close();
    tokenWatcher?.close();
    await server.close();
    await closeAll([
      () => queue.close(),
      async () => apiKeys?.close(),
      agentConfig.close,
      async () => passthrough?.close(),
    ]);
  });
  let intake: ListenAddress;
  try {
    await monitor.start();
    await agentConfig.start();
    await passthrough?.start();
    tokenWatcher?.start();
    intake = await server.start().catch(explainListenFailure(settingName('server.host'), s.host));
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  reclaimer.collectNow();
  return { intake, registry: metrics.registry, readiness, server, close };
}
