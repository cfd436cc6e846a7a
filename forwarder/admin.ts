import http from 'node:http';

import type { Registry } from 'prom-client';

import { listen, parseHostPort } from '../core/listen';
import type { Logger } from '../core/log';
import type { Readiness } from './preconditions';

/**
 * /healthz (the process is alive), /readyz (200 only once the Elasticsearch preconditions passed and while not
 * draining; otherwise 503 naming the failing precondition), /metrics (Prometheus text). Never on the agents' port.
 */
export class AdminServer {
  private readonly server: http.Server;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly readiness: () => Readiness,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err, url: req.url }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const state = this.readiness();
      return json(res, state.ready ? 200 : 503, state);
    }
    if (path === '/metrics') {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(body);
      return;
    }
    json(res, 404, { error: 'not found' });
  }

  /** Listens on host:port (port 0: any free port); resolves with the bound port. */
  async start(hostPort: string): Promise<number> {
    const bound = await listen(this.server, parseHostPort(hostPort));
    this.logger.info(
      { admin: `${bound.host}:${bound.port}` },
      'admin endpoints listening (/healthz, /readyz, /metrics)',
    );
    return bound.port;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
