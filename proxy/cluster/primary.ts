import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';

import { AggregatorRegistry, Counter, Gauge, type PrometheusContentType } from 'prom-client';

import { settingName } from '../../config/leaves';
import { runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import { AdminServer, type Readiness } from '../../core/admin-server';
import { errorCatalogue, type ErrorCode, SidecarError } from '../../core/errors';
import { closeOnce } from '../../core/lifecycle';
import { explainListenFailure, type ListenAddress } from '../../core/listen';
import type { Logger } from '../../core/log';
import { metricPrefix } from '../../core/metrics';
import { isAgentErrorCode } from '../../core/results';
import { parseWorkerMessage, type PrimaryMessage } from './messages';

/** What `proxy` and `start` get back, one process or server.workers of them: intake and admin address, the stop. */
export interface RunningProxyCluster {
  readonly intake: ListenAddress;
  readonly admin: ListenAddress;
  /** SIGTERM to every worker (each drains within server.shutdown_timeout), then the admin listener closes. */
  readonly close: () => Promise<void>;
  /** SIGKILL to every worker still running (a second signal, or a drain past its deadline); no-op for one process. */
  readonly kill: () => void;
}

function isErrorCode(code: string): code is ErrorCode {
  return code in errorCatalogue || isAgentErrorCode(code);
}

const workerEntry = path.join(__dirname, `worker-main${path.extname(__filename)}`);
/** A worker that does not answer a readiness request within this is reported not ready. */
const readinessAnswerMs = 2000;

/** /metrics of the primary: every worker's metrics summed by prom-client, then the primary's own. */
class ClusterRegistry extends AggregatorRegistry<PrometheusContentType> {
  override async metrics(): Promise<string> {
    const [workers, own] = await Promise.all([this.clusterMetrics(), super.metrics()]);
    return `${workers.trimEnd()}\n\n${own}`;
  }
}

interface Slot {
  worker: Worker;
  listening: boolean;
  exits: number[];
  restart?: NodeJS.Timeout;
}

/**
 * server.workers proxy processes on one port (node:cluster hands each new connection to the next worker), supervised
 * here: a worker that dies after it started is logged at error and replaced; one that cannot start (a bad
 * certificate, a port in use) fails the start at once, with its error, instead of restarting in a loop.
 */
class ProxyCluster {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private nextRequestId = 0;
  private readonly answers = new Map<number, (readiness: Readiness) => void>();
  readonly registry = new ClusterRegistry();
  private readonly restarts: Counter;
  private readonly onHangup = (): void => {
    // Only to workers that listen: one still starting has no SIGHUP handler yet, and the signal's default ends it
    // (it reads the files as it starts anyway).
    for (const slot of this.slots) if (slot.listening && !slot.worker.isDead()) slot.worker.process.kill('SIGHUP');
  };

  constructor(
    private readonly config: SidecarConfig,
    private readonly logger: Logger,
  ) {
    this.registry.setDefaultLabels({ role: 'proxy' });
    const listening = (): number => this.listeningWorkers();
    new Gauge({
      name: `${metricPrefix}proxy_workers`,
      help: 'Proxy worker processes (server.workers) with their intake listener open',
      registers: [this.registry],
      collect() {
        this.set(listening());
      },
    });
    this.restarts = new Counter({
      name: `${metricPrefix}proxy_worker_restarts_total`,
      help: 'Proxy worker processes that exited unexpectedly and were replaced',
      registers: [this.registry],
    });
  }

  listeningWorkers(): number {
    return this.slots.filter((s) => s.listening && !s.worker.isDead()).length;
  }

  /** Forks every worker; resolves with the shared intake address once all listen, rejects when one cannot. */
  async start(): Promise<ListenAddress> {
    cluster.setupPrimary({ exec: workerEntry, args: [] });
    process.on('SIGHUP', this.onHangup);
    const addresses = await Promise.all(
      Array.from({ length: this.config.server.workers }, (_, index) => this.fork(index)),
    );
    const intake = addresses[0];
    if (intake === undefined) throw new SidecarError('SIDECAR_ERR_INTERNAL', 'server.workers is 0');
    return intake;
  }

  private fork(index: number): Promise<ListenAddress> {
    const worker = cluster.fork();
    const slot: Slot = this.slots[index] ?? { worker, listening: false, exits: [] };
    Object.assign(slot, { worker, listening: false });
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      worker.on('online', () => {
        const message: PrimaryMessage = { type: 'apm-sidecar:config', config: this.config };
        worker.send(message);
      });
      worker.on('message', (raw: unknown) => {
        const message = parseWorkerMessage(raw);
        if (message?.type === 'apm-sidecar:listening') {
          slot.listening = true;
          this.logger.info({ worker: worker.id, pid: worker.process.pid }, 'proxy worker started');
          resolve({ host: message.host, port: message.port });
        } else if (message?.type === 'apm-sidecar:fatal') {
          const code = isErrorCode(message.code) ? message.code : 'SIDECAR_ERR_INTERNAL';
          const fix = message.remediation === undefined ? {} : { remediation: message.remediation };
          reject(new SidecarError(code, `proxy worker ${worker.id}: ${message.message}`, fix));
        } else if (message?.type === 'apm-sidecar:readiness') {
          this.answers.get(message.requestId)?.(message.readiness);
        }
      });
      worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        const started = slot.listening;
        slot.listening = false;
        const early = `proxy worker ${worker.id} exited (code ${code}, signal ${signal}) before it listened`;
        if (!started) reject(new SidecarError('SIDECAR_ERR_INTERNAL', early));
        else if (!this.stopping) this.replace(index, slot, code, signal);
      });
    });
  }

  private replace(index: number, slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.restarts.inc();
    const now = Date.now();
    slot.exits = [...slot.exits.filter((t) => now - t < 60_000), now];
    // At once the first time in a minute, then doubling to 30 s: a worker that keeps dying does not spin a core.
    const delayMs = Math.min(30_000, 250 * 2 ** (slot.exits.length - 1));
    this.logger.error(
      { worker: slot.worker.id, pid: slot.worker.process.pid, exitCode: code, signal, restartInMs: delayMs },
      'proxy worker exited; starting another in its place',
    );
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (this.stopping) return;
      this.fork(index).catch((err: unknown) => {
        if (this.stopping) return;
        this.logger.error({ err }, 'a replacement proxy worker could not start; trying again');
        this.replace(index, slot, null, null);
      });
    }, delayMs);
  }

  /** Every worker's own readiness, asked now; ready only when all of them are. */
  async readiness(): Promise<Readiness> {
    const answers = await Promise.all(this.slots.map(async (slot) => ({ slot, answer: await this.ask(slot) })));
    const reasons = this.stopping ? ['shutting down'] : [];
    for (const { slot, answer } of answers) {
      if (answer === undefined)
        reasons.push(`proxy worker ${slot.worker.id} is not serving (starting or not answering)`);
      else reasons.push(...answer.reasons.map((r) => `proxy worker ${slot.worker.id}: ${r}`));
    }
    const first = answers.find((a) => a.answer !== undefined)?.answer;
    const details = {
      ...first?.details,
      workers: this.config.server.workers,
      workers_ready: answers.filter((a) => a.answer?.ready === true).length,
    };
    return { ready: reasons.length === 0, reasons, details };
  }

  private ask(slot: Slot): Promise<Readiness | undefined> {
    if (!slot.listening || slot.worker.isDead() || !slot.worker.isConnected()) return Promise.resolve(undefined);
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), readinessAnswerMs);
      const done = (answer: Readiness | undefined): void => {
        clearTimeout(timer);
        this.answers.delete(requestId);
        resolve(answer);
      };
      this.answers.set(requestId, done);
      const message: PrimaryMessage = { type: 'apm-sidecar:readiness-request', requestId };
      slot.worker.send(message);
    });
  }

  /** SIGTERM to each worker, which drains as a single proxy does; resolves when every one has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    process.off('SIGHUP', this.onHangup);
    const running = this.slots.filter((slot) => {
      clearTimeout(slot.restart);
      return !slot.worker.isDead();
    });
    await Promise.all(
      running.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            slot.worker.process.kill('SIGTERM');
          }),
      ),
    );
  }

  kill(): void {
    this.stopping = true;
    for (const slot of this.slots) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
  }
}

/**
 * Starts server.workers proxy processes and the admin listener that answers for all of them.
 * @public proxy/main.ts loads this module with require, only when server.workers > 1 (knip sees no import).
 */
export async function startProxyCluster(config: SidecarConfig, logger: Logger): Promise<RunningProxyCluster> {
  const proxies = new ProxyCluster(config, logger);
  const admin = new AdminServer({
    listen: runtimeConfig(config).listen.admin,
    registry: proxies.registry,
    readiness: () => proxies.readiness(),
    logger,
  });
  const close = closeOnce(async () => proxies.stop().finally(admin.close));
  try {
    const intake = await proxies.start();
    const adminAddress = await admin.start().catch(explainListenFailure(settingName('admin.host'), config.admin.host));
    logger.info({ workers: config.server.workers, host: intake.host, port: intake.port }, 'proxy workers listening');
    return { intake, admin: adminAddress, close, kill: () => proxies.kill() };
  } catch (err) {
    proxies.kill();
    await close().catch(() => undefined);
    throw err;
  }
}
