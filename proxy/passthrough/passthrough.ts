/**
 * Pass-through of every path apm-sidecar does not serve itself to the upstream (APM Server or Kibana).
 *
 * Why http-proxy-3 and not http-proxy: http-proxy has had no release since 2020 and its maintainers no longer
 * answer (http-party/node-http-proxy#1687); it leaks sockets under aborted requests and ships no types.
 * http-proxy-3 is its maintained, API-compatible TypeScript rewrite (used by Vite and JupyterHub), tested on
 * Node 20+, with those leaks fixed and deprecated APIs (url.parse) gone.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

import { ProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import type { CidrBlock } from '../../core/cidr';
import { describeForOperator, SidecarError } from '../../core/errors';
import { closeOnce, type Component } from '../../core/lifecycle';
import { metricPrefix } from '../../core/metrics';
import type { Identity } from '../../queue/contract';
import { mappedIpv4, NetworkAllowList } from '../auth/networks';
import { rewriteRequestHeaders, rewriteResponseHeaders } from './headers';
import type { UpstreamSettings } from './upstream';

export interface UpstreamPassthroughOptions {
  readonly upstream: UpstreamSettings;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** server.trusted_proxies: peers whose X-Forwarded-For / Forwarded are believed. Empty: none. */
  readonly trustedProxies?: readonly CidrBlock[];
}

export class UpstreamPassthrough implements Component {
  private readonly proxy = new ProxyServer();
  /** Requests whose client asked for Connection: close (the header itself is not forwarded). */
  private readonly clientWantsClose = new WeakSet<IncomingMessage>();
  private readonly upstreamRequests = new WeakMap<IncomingMessage, ClientRequest>();
  private readonly responses: Counter<'status'>;
  private readonly logger: Logger;
  private readonly trusted: NetworkAllowList | null;

  constructor(private readonly options: UpstreamPassthroughOptions) {
    this.logger = options.logger.child({ component: 'passthrough' });
    const trusted = options.trustedProxies ?? [];
    this.trusted = trusted.length === 0 ? null : new NetworkAllowList(trusted);
    this.responses = new Counter({
      name: `${metricPrefix}upstream_responses_total`,
      help: 'Passed-through requests by upstream status (the HTTP status, or "error" / "timeout" when none came)',
      labelNames: ['status'],
      registers: options.registry === undefined ? [] : [options.registry],
    });
    this.proxy.on('proxyReq', (proxyReq, req) => {
      this.upstreamRequests.set(req, proxyReq);
      // An idle socket for upstream.timeout (no answer, or a stalled body) ends the exchange.
      proxyReq.setTimeout(options.upstream.timeoutMs, () =>
        proxyReq.destroy(new SidecarError('SIDECAR_ERR_UPSTREAM_TIMEOUT', 'upstream.timeout elapsed')),
      );
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onUpstreamResponse(proxyRes, req, res));
    // Every web() call has its own callback, so this only guards against an 'error' with no listener.
    this.proxy.on('error', (err) => this.logger.error({ err }, 'pass-through failed outside a request'));
  }

  start(): Promise<void> {
    this.logger.info(
      { upstream: this.options.upstream.url.origin },
      'paths apm-sidecar does not serve are passed to the upstream',
    );
    return Promise.resolve();
  }

  readonly close = closeOnce(() => {
    this.proxy.close();
    this.options.upstream.agent.destroy();
    return Promise.resolve();
  });

  /**
   * Streams the request to the upstream and its answer back; resolves when the client's response is closed.
   * `body` is the request body when the server already reads `req` (its timeouts and drain cut that stream
   * off). A failure before the answer started (the body cut off, the upstream down or slow) rejects, and the
   * server renders it.
   */
  handle(req: IncomingMessage, res: ServerResponse, identity: Identity, body: Readable = req): Promise<void> {
    const { upstream } = this.options;
    let fail: (err: Error) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      fail = reject;
      res.once('close', resolve);
      if (body !== req) body.once('error', (err) => this.onBodyFailure(err, req, res, reject));
    });
    if (/\bclose\b/i.test(req.headers.connection ?? '')) this.clientWantsClose.add(req);
    const remote = req.socket.remoteAddress;
    const peer = remote === undefined ? undefined : (mappedIpv4(remote) ?? remote);
    rewriteRequestHeaders(req.headers, {
      authorization: upstream.authorization,
      peer,
      forwardFor: upstream.forwardFor,
      peerTrusted: this.trusted !== null && this.trusted.allows(remote),
    });
    const options = {
      target: upstream.url,
      agent: upstream.agent,
      changeOrigin: true,
      secure: true,
      ...(body === req ? {} : { buffer: body }),
    };
    this.proxy.web(req, res, options, (err) => this.onFailure(err, req, res, identity, fail));
    return finished;
  }

  /** The server cut the body off (read timeout, shutdown): stop the upstream exchange and let it answer. */
  private onBodyFailure(err: Error, req: IncomingMessage, res: ServerResponse, reject: (err: Error) => void): void {
    this.upstreamRequests.get(req)?.destroy();
    if (res.headersSent) res.destroy();
    else reject(err);
  }

  private onUpstreamResponse(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    this.responses.inc({ status: String(proxyRes.statusCode ?? 0) });
    rewriteResponseHeaders(proxyRes.headers);
    // The client's connection is ours, not the upstream's: keep what the client asked for.
    proxyRes.headers.connection = this.clientWantsClose.has(req) ? 'close' : 'keep-alive';
    // A reset after the headers went out cannot become a 502: end the client's response as broken, not complete.
    proxyRes.once('close', () => {
      if (proxyRes.complete) return;
      if (!res.destroyed)
        this.logger.warn(
          { path: req.url, status: proxyRes.statusCode },
          "the upstream broke its response off; closing the client's connection",
        );
      res.destroy();
    });
  }

  private onFailure(
    err: Error,
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    reject: (err: Error) => void,
  ): void {
    if (res.destroyed || res.writableEnded || req.socket.destroyed) {
      // The agent went away first; nothing to answer and nothing wrong with the upstream.
      this.logger.debug({ err, path: req.url }, 'pass-through ended: the client closed the connection');
      res.destroy();
      return;
    }
    // The destroy() reason of a request that outlived upstream.timeout: a 504, not a 502.
    const timedOut = err instanceof SidecarError && err.code === 'SIDECAR_ERR_UPSTREAM_TIMEOUT';
    const failure = new SidecarError(
      timedOut ? 'SIDECAR_ERR_UPSTREAM_TIMEOUT' : 'SIDECAR_ERR_UPSTREAM_UNAVAILABLE',
      undefined,
      {
        cause: err,
        remediation: timedOut
          ? 'the upstream is slow: check it, or raise upstream.timeout'
          : `check that ${this.options.upstream.url.origin} is up and its TLS certificate is trusted (upstream.ssl.certificate_authorities)`,
      },
    );
    if (res.headersSent) {
      this.logger.error({ err, path: req.url, identity: identity.kind }, describeForOperator(failure));
      res.destroy();
      return;
    }
    this.responses.inc({ status: timedOut ? 'timeout' : 'error' });
    req.resume();
    reject(failure);
  }
}
