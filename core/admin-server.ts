import http from 'node:http';

import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

import { closeOnce } from './lifecycle';
import { listen, type ListenAddress } from './listen';
import { metricPrefix } from './metrics';

/** What /readyz answers, on both processes: 200 when ready, else 503; the body is this object as JSON. */
export interface Readiness {
  readonly ready: boolean;
  /** Why it is not ready, one sentence each with its remediation; empty when ready. */
  readonly reasons: readonly string[];
  /** What an operator wants to see next to the verdict (durability level, queue state, warnings, codes). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** What starting the proxy or the forwarder returns: where its admin endpoints listen, its state, its stop. */
export interface RunningProcess {
  readonly admin: ListenAddress;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  /** Stops taking work, finishes what is in hand within server.shutdown_timeout, closes all; idempotent. */
  readonly close: () => Promise<void>;
}

export interface AdminOptions {
  readonly listen: ListenAddress;
  readonly registry: Registry;
  /** Asynchronous where the answer is gathered from other processes (the workers of server.workers). */
  readonly readiness: () => Readiness | Promise<Readiness>;
  readonly logger: Logger;
}

const jsonType = 'application/json';

/**
 * The operators' listener of either process, never the agents' port: /healthz (the process is alive), /readyz
 * (it can do its job now: 200, or 503 with the reasons), /metrics (Prometheus text, with apm_sidecar_ready).
 * GET and HEAD only; anything else is 405, an unknown path 404, both as JSON.
 */
export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly options: AdminOptions) {
    new Gauge({
      name: `${metricPrefix}ready`,
      help: 'Whether /readyz answers 200 (1) or 503 (0).',
      registers: [options.registry],
      async collect() {
        this.set((await options.readiness()).ready ? 1 : 0);
      },
    });
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        options.logger.error({ err, path: req.url }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': jsonType });
        res.end('{"error":"internal error"}\n');
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, jsonType, '{"error":"method not allowed"}\n', { Allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/healthz':
        return send(res, 200, jsonType, '{"status":"ok"}\n');
      case '/readyz': {
        const { ready, reasons, details } = await this.options.readiness();
        return send(res, ready ? 200 : 503, jsonType, `${JSON.stringify({ ready, reasons, details })}\n`);
      }
      case '/metrics':
        return send(res, 200, this.options.registry.contentType, await this.options.registry.metrics());
      default:
        return send(res, 404, jsonType, '{"error":"not found"}\n');
    }
  }

  /** Listens; resolves with the bound address (port 0 asked: the free port taken). */
  async start(): Promise<ListenAddress> {
    const bound = await listen(this.server, this.options.listen);
    this.options.logger.info({ host: bound.host, port: bound.port }, 'admin listening (/healthz, /readyz, /metrics)');
    return bound;
  }

  readonly close = closeOnce(async () => {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
