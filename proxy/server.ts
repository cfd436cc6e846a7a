import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import type { Logger } from 'pino';

import type { TlsSettings } from '../config/tls-settings';
import { InternalError, SidecarError } from '../core/errors';
import { closeOnce } from '../core/lifecycle';
import { listen, type ListenAddress } from '../core/listen';
import { AgentAnswers, type HandledResponse } from './answer';
import { mappedIpv4, type NetworkAllowList } from './auth/networks';
import { answerClientErrors } from './client-errors';
import { startTlsOnFirstBytes } from './lazy-tls';
import type { ProxyMetrics } from './metrics';
import type { ProxyRequest, RouteTable } from './routes';
import { CertificateReloader, httpsServerOptions } from './tls';

export type { ListenAddress } from '../core/listen';

export interface ProxyServerOptions {
  readonly listen: ListenAddress;
  readonly tls: TlsSettings;
  readonly routes: RouteTable;
  readonly networks: NetworkAllowList;
  readonly readTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** server.max_connections; 0: no limit. */
  readonly maxConnections?: number;
  /** server.max_header_size in bytes. */
  readonly maxHeaderSize?: number;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** How often certificate files are polled for changes. */
  readonly certificatePollMs?: number;
  /** With TLS: connections that negotiate h2 (ALPN) go here (OTLP/gRPC); HTTP/1.1 ones are served as before. */
  readonly http2?: Http2Connections;
}

interface Http2Connections {
  accept(socket: TLSSocket): void;
  /** Graceful within `graceMs`, then every connection closed. */
  close(graceMs: number): Promise<void>;
}

/** One request being served: its body can be cut off (timeout, shutdown) with the error its answer should carry. */
interface InFlight {
  readonly request: http.IncomingMessage;
  readonly done: Promise<void>;
  abortReason: SidecarError | undefined;
  abort(reason: SidecarError): void;
}

/**
 * The agents' listener: TLS, timeouts, the network allow-list and the shutdown drain; it hands each request to
 * its route (authenticated as the route declares) and turns whatever a handler throws into the one answer of its result (proxy/answer.ts).
 */
export class ProxyServer {
  private readonly server: http.Server;
  private readonly reloader: CertificateReloader | undefined;
  private readonly inFlight = new Set<InFlight>();
  private readonly bySocket = new WeakMap<Socket, InFlight>();
  private readonly answers: AgentAnswers;
  private draining = false;

  constructor(private readonly options: ProxyServerOptions) {
    this.answers = new AgentAnswers(options.metrics, options.logger);
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    const httpOptions: http.ServerOptions = {
      // Node checks headersTimeout only every connectionsCheckingInterval (30 s by default), so a slowloris
      // sender outlived read_timeout by up to that much; checked often, it is cut within a fraction of a second.
      connectionsCheckingInterval: Math.max(50, Math.min(500, Math.floor(options.readTimeoutMs / 4))),
      ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }),
    };
    if (options.tls.enabled) {
      const alpn = options.http2 === undefined ? {} : { ALPNProtocols: ['h2', 'http/1.1'] };
      const server = https.createServer({ ...httpsServerOptions(options.tls), ...httpOptions, ...alpn }, onRequest);
      if (options.http2 !== undefined) dispatchHttp2(server, options.http2);
      startTlsOnFirstBytes(server);
      guardHandshakes(server, options.tls.handshakeTimeoutMs, options.networks, options.logger);
      if (options.tls.client_authentication === 'optional')
        server.on('secureConnection', rejectUnverifiedClientCertificate);
      server.on('tlsClientError', (err) => options.logger.debug({ err: err.message }, 'TLS handshake failed'));
      this.reloader = new CertificateReloader(options.tls, server, options.logger, options.certificatePollMs);
      this.server = server;
    } else {
      this.server = http.createServer(httpOptions, onRequest);
    }
    answerClientErrors(this.server);
    if (options.maxConnections !== undefined && options.maxConnections > 0)
      capConnections(this.server, options.maxConnections, options.logger);
    this.server.keepAliveTimeout = options.idleTimeoutMs;
    // Headers: server.read_timeout bounds them (Node answers 408 and closes). The body: our own read timer
    // answers slow senders with a clean 408 in our words, so Node's whole-request timer stays off.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = Math.min(options.readTimeoutMs, options.idleTimeoutMs);
    this.server.setTimeout(options.idleTimeoutMs, (socket: Socket) => this.onIdle(socket));
  }

  /** Listens; resolves with the bound address (port 0 asked: the free port taken). */
  async start(): Promise<ListenAddress> {
    const bound = await listen(this.server, this.options.listen);
    this.reloader?.start();
    this.options.logger.info(
      { host: this.options.listen.host, port: bound.port, tls: this.options.tls.enabled },
      'intake listening',
    );
    return bound;
  }

  /** False from the first moment of a shutdown: readiness goes down at once. */
  get accepting(): boolean {
    return !this.draining;
  }

  /** Reloads the TLS certificate now (the same as SIGHUP). */
  reloadCertificate(): void {
    this.reloader?.reload('requested');
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const body = new PassThrough();
    req.pipe(body);
    req.on('error', (err) => body.destroy(err));
    req.on('close', () => {
      if (!req.complete)
        body.destroy(
          new InternalError(
            'SIDECAR_ERR_BODY_INCOMPLETE',
            'the client closed the connection before sending the whole request',
          ),
        );
    });
    let settle = (): void => undefined;
    const entry: InFlight = {
      request: req,
      done: new Promise<void>((resolve) => (settle = resolve)),
      abortReason: undefined,
      abort(reason) {
        if (req.complete || entry.abortReason !== undefined) return;
        entry.abortReason = reason;
        req.unpipe(body);
        // Not a SidecarError, so the stream pipeline rejects instead of reporting it as a line error: the answer
        // is the abort reason ({"error": ...}) and nothing of a cut-off request is queued.
        body.destroy(new InternalError('SIDECAR_ERR_BODY_INCOMPLETE', `request body cut off: ${reason.message}`));
      },
    };
    const readTimer = setTimeout(
      () => entry.abort(new SidecarError('SIDECAR_ERR_REQUEST_TIMEOUT')),
      this.options.readTimeoutMs,
    );
    this.inFlight.add(entry);
    this.options.metrics.requestsInFlight.inc();
    this.bySocket.set(req.socket, entry);
    void this.serve(req, res, body, entry)
      .catch((err: unknown) => {
        this.options.logger.error({ err }, 'could not answer a request');
        res.destroy();
      })
      .finally(() => {
        clearTimeout(readTimer);
        this.inFlight.delete(entry);
        this.options.metrics.requestsInFlight.dec();
        if (this.bySocket.get(req.socket) === entry) this.bySocket.delete(req.socket);
        settle();
      });
  }

  private async serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: PassThrough,
    entry: InFlight,
  ): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://intake');
    const remote = req.socket.remoteAddress;
    const request: ProxyRequest = {
      id: randomUUID(),
      receivedAt: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      // IPv4 clients of a dual-stack socket without the ::ffff: prefix.
      clientIp: remote === undefined ? '' : (mappedIpv4(remote) ?? remote),
      clientPort: req.socket.remotePort ?? null,
      responseHeaders: {},
      body,
    };
    const route = this.options.routes.routeFor(request.path);
    let response: HandledResponse;
    try {
      if (!this.options.networks.allows(remote)) throw new SidecarError('SIDECAR_ERR_NETWORK_NOT_ALLOWED');
      if (this.draining) throw new SidecarError('SIDECAR_ERR_SHUTTING_DOWN');
      response = await route.serve(request, res);
    } catch (err) {
      const context = { requestId: request.id, path: request.path, client: request.clientIp };
      response = this.answers.fail(entry.abortReason ?? err, req.headers, context, route.errorBody);
    }
    if (Object.keys(request.responseHeaders).length > 0)
      response = { ...response, headers: { ...request.responseHeaders, ...response.headers } };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.answers.send(res, response, seconds, route.intake, this.draining);
  }

  /** server.idle_timeout: a request stalled mid-body is answered 408; an idle keep-alive connection is closed. */
  private onIdle(socket: Socket): void {
    const entry = this.bySocket.get(socket);
    if (entry === undefined) socket.destroy();
    else entry.abort(new SidecarError('SIDECAR_ERR_REQUEST_TIMEOUT'));
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to shutdown_timeout, then cuts off bodies still
   * arriving with a 503 "server is shutting down" and closes every connection.
   */
  readonly close = closeOnce(async () => {
    this.draining = true;
    this.reloader?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = Math.min(1000, this.options.shutdownTimeoutMs / 4);
    await this.settleWithin(this.options.shutdownTimeoutMs - grace);
    for (const entry of this.inFlight) entry.abort(new SidecarError('SIDECAR_ERR_SHUTTING_DOWN'));
    await this.settleWithin(grace);
    this.server.closeAllConnections();
    // HTTP/2 sockets are not among the connections closeAllConnections knows: close them or close() never ends.
    await this.options.http2?.close(grace);
    await closed;
  });

  private async settleWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.all([...this.inFlight].map((e) => e.done)), timeout]);
    clearTimeout(timer);
  }
}

/**
 * server.max_connections: beyond the cap a new connection is closed at once, before TLS, without reading from it.
 * Counted here rather than with Node's server.maxConnections, which in a node:cluster worker (server.workers) refuses
 * the primary's handoff instead: the primary hands the connection straight back, the two processes spin on it (a
 * core between them) and the client hangs unanswered.
 */
function capConnections(server: http.Server, max: number, logger: Logger): void {
  let open = 0;
  server.prependListener('connection', (socket: Socket) => {
    if (open >= max) {
      logger.debug({ client: socket.remoteAddress }, 'connection closed: server.max_connections reached');
      socket.destroy();
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
}

/**
 * Before a TLS handshake: a client outside server.allowed_networks is dropped at connect (it never gets to make
 * the server compute a handshake), and a connection whose handshake is not complete `timeoutMs` after it was
 * accepted is closed, however slowly it trickles its hello (Node's handshakeTimeout restarts with every byte).
 */
function guardHandshakes(server: https.Server, timeoutMs: number, networks: NetworkAllowList, logger: Logger): void {
  const pending = new Map<string, NodeJS.Timeout>();
  const keyOf = (socket: Socket): string => `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
  server.on('connection', (socket: Socket) => {
    if (!networks.allows(socket.remoteAddress)) {
      logger.debug(
        { client: socket.remoteAddress },
        'connection dropped: client address outside server.allowed_networks',
      );
      socket.destroy();
      return;
    }
    if (timeoutMs <= 0) return;
    const key = keyOf(socket);
    const timer = setTimeout(() => {
      pending.delete(key);
      logger.debug(
        { client: socket.remoteAddress },
        'connection closed: TLS handshake not completed within server.ssl.handshake_timeout',
      );
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    pending.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      if (pending.get(key) === timer) pending.delete(key);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const key = keyOf(socket);
    clearTimeout(pending.get(key));
    pending.delete(key);
  });
}

/**
 * Node's https server parses every TLS socket as HTTP/1 (its one 'secureConnection' listener, added by the
 * constructor); sockets that negotiated h2 go to `http2` instead, everything else to that listener as before.
 */
function dispatchHttp2(server: https.Server, http2: Http2Connections): void {
  const [http1, ...others] = server.listeners('secureConnection');
  if (http1 === undefined || others.length > 0)
    throw new SidecarError('SIDECAR_ERR_INTERNAL', 'expected exactly the HTTP/1 connection listener of https.Server');
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') http2.accept(socket);
    else Reflect.apply(http1, server, [socket]);
  });
}

/** client_authentication optional: no certificate is fine, but one that does not verify is refused. */
function rejectUnverifiedClientCertificate(socket: TLSSocket): void {
  if (socket.authorized) return;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (presented) socket.destroy();
}
