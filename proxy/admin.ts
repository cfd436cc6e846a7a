import http from 'node:http';

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import { closeOnce } from '../core/lifecycle';
import { listen, type ListenAddress } from '../core/listen';
import type { QueueCondition } from './backpressure';

export interface Readiness {
  readonly ready: boolean;
  /** Why it is not ready; empty when ready. */
  readonly reasons: readonly string[];
  /** Shown as they are in the /readyz body (e.g. durability level, queue state). */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AdminOptions {
  readonly listen: ListenAddress;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
}

/**
 * The operators' listener, never the agents' port: /healthz (the process is alive), /readyz (it can do its job
 * now: 200 or 503 with the reasons), /metrics (Prometheus text).
 */
export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly options: AdminOptions) {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        options.logger.error({ err, path: req.url }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(res, 200, 'application/json', '{"status":"ok"}\n');
      case '/readyz': {
        const readiness = this.options.readiness();
        const body = { ready: readiness.ready, reasons: readiness.reasons, ...readiness.details };
        return send(res, readiness.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      }
      case '/metrics':
        return send(res, 200, this.options.registry.contentType, await this.options.registry.metrics());
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  }

  async start(): Promise<void> {
    await listen(this.server, this.options.listen);
    this.options.logger.info(
      { host: this.options.listen.host, port: this.address().port },
      'admin listening (/healthz, /readyz, /metrics)',
    );
  }

  address(): ListenAddress {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the admin server is not listening');
    return { host: address.address, port: address.port };
  }

  readonly close = closeOnce(async () => {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  });
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * The proxy can do its job: not draining, Redis reachable and giving the configured durability. A full queue is
 * still "ready" (it refuses fast and recovers by itself; pulling every proxy out of a load balancer would turn
 * 503s the agents back off from into connection errors), but the body says it is shedding, and why.
 */
export function proxyReadiness(
  server: { readonly accepting: boolean },
  queue: { current(): QueueCondition },
  settings: { readonly durability: string; readonly replicas: number },
): Readiness {
  const condition = queue.current();
  const reasons = [
    ...(server.accepting ? [] : ['shutting down']),
    ...(condition.state === 'unavailable' ? [`Redis unavailable: ${condition.reason}`] : []),
    ...(condition.state === 'unsafe' ? [`Redis below queue.durability: ${condition.reason}`] : []),
  ];
  const durability =
    settings.durability === 'replicated' ? `replicated (${settings.replicas} replicas)` : settings.durability;
  const shedding = condition.state === 'open' ? {} : { shedding: condition.reason };
  return { ready: reasons.length === 0, reasons, details: { durability, queue: condition.state, ...shedding } };
}
