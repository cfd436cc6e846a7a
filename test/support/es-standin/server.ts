import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import zlib from 'node:zlib';

import { testPki } from '../certs';
import { bulk } from './bulk';
import { type RequestContext, type Route, route, type RouteResult } from './context';
import { handleControl } from './control';
import { EsHttpError } from './es-errors';
import {
  type Counters,
  emptyCounters,
  type FaultPlan,
  htmlPage,
  ItemRejector,
  requestFailureBodies,
  takeFault,
} from './faults';
import { applyFilterPath } from './filter-path';
import { isObject } from './json';
import { loadState, saveState } from './persistence';
import { dataRoutes } from './routes-data';
import { securityRoutes } from './routes-security';
import { SecurityRealm } from './security';
import { DocumentStore } from './store';

export interface EsStandinOptions {
  /** 0 (default): a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Password of the reserved `elastic` superuser (default 'changeme'). */
  readonly elasticPassword?: string;
  /** Process mode: state persisted here and loaded at start. */
  readonly dataFile?: string;
  /** PEM server certificate/key; default: test/support/certs.ts testPki() (CA in `caFile`). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly caFile: string };
}

/**
 * An Elasticsearch-shaped HTTPS server for tests: security (users, roles, API keys, has_privileges), bulk,
 * templates, a small search, and faults on demand. It speaks only what apm-sidecar uses; see README.md.
 */
export class EsStandin {
  readonly store = new DocumentStore();
  readonly realm: SecurityRealm;
  readonly caFile: string;
  readonly elasticPassword: string;
  faults: FaultPlan = {};
  private counts: Counters = emptyCounters();
  private readonly rejector = new ItemRejector();
  private readonly hangs = new ItemRejector();
  private readonly drops = new ItemRejector();
  private readonly server: https.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly routes: Route[];
  private listening = false;
  private closed = false;
  /** Bulk requests received and not yet answered (or dropped). */
  private bulksOpen = 0;
  port = 0;

  private constructor(private readonly options: EsStandinOptions) {
    const pki =
      options.tls ??
      (() => {
        const p = testPki();
        return {
          cert: fs.readFileSync(p.serverCertFile, 'utf8'),
          key: fs.readFileSync(p.serverKeyFile, 'utf8'),
          caFile: p.caFile,
        };
      })();
    this.caFile = pki.caFile;
    this.elasticPassword = options.elasticPassword ?? 'changeme';
    this.realm = new SecurityRealm(this.elasticPassword);
    if (options.dataFile !== undefined) loadState(options.dataFile, this.store, this.realm);
    this.routes = [
      ...securityRoutes,
      route('POST|PUT', '/_bulk', (ctx) => this.bulk(ctx)),
      route('POST|PUT', '/:index/_bulk', (ctx) => this.bulk(ctx)),
      ...dataRoutes,
    ];
    this.server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: EsStandinOptions = {}): Promise<EsStandin> {
    const standin = new EsStandin(options);
    standin.port = options.port ?? 0;
    await standin.resume();
    return standin;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Requests, bulk requests, bulk items by status and faults applied since start or resetCounters(); documents stored now. */
  get counters(): Counters {
    return { ...this.counts, documentsStored: this.store.documentCount() };
  }

  /** Replaces the fault plan (an empty object clears every fault). */
  setFaults(plan: FaultPlan): void {
    this.faults = { ...plan };
  }

  resetCounters(): void {
    this.counts = emptyCounters();
  }

  /** Every stored document of the indices or data streams matching `expression` (default: all). */
  documents(expression = '*'): Array<{ index: string; id: string; source: Record<string, unknown> }> {
    return this.store
      .resolve(expression, true)
      .flatMap((i) => [...i.docs].map(([id, d]) => ({ index: i.name, id, source: { ...d.source } })));
  }

  /** Stops listening and drops open connections: clients get "connection refused" until resume(). */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async resume(): Promise<void> {
    if (this.listening || this.closed) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (typeof address === 'object' && address !== null) this.port = address.port;
        resolve();
      });
    });
    this.listening = true;
  }

  /** stop() then resume(), optionally forgetting every index, data stream and document. */
  async restart(options: { keepDocuments: boolean }): Promise<void> {
    await this.stop();
    if (!options.keepDocuments) {
      this.store.indices.clear();
      this.store.dataStreams.clear();
      this.persist();
    }
    await this.resume();
  }

  async close(): Promise<void> {
    await this.stop();
    this.closed = true;
  }

  private persist(): void {
    if (this.options.dataFile !== undefined) saveState(this.options.dataFile, this.store, this.realm);
  }

  private bulk(ctx: RequestContext): RouteResult {
    return bulk(ctx, this.faults, this.rejector, this.counts);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://standin');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    if (/\/_bulk$/.test(path)) {
      this.bulksOpen++;
      this.counts.bulkInFlightPeak = Math.max(this.counts.bulkInFlightPeak, this.bulksOpen);
      res.once('close', () => this.bulksOpen--);
    }
    const received = await readBody(req);
    const body = decodeBody(received, req.headers['content-encoding']);
    if (path.startsWith('/_standin/'))
      return handleControl(this, req.method ?? 'GET', path, url.searchParams, body, res);
    this.counts.requests += 1;
    const delay = takeFault(this.faults.delay, path);
    if (delay !== undefined) {
      this.count('delay');
      // unref: a delayed answer must not keep jest (or a closing stand-in) alive.
      await new Promise((resolve) => setTimeout(resolve, delay.ms).unref());
    }
    const result = this.faultOrDispatch(req, path, url.searchParams, body, received.length);
    if (result === 'hang') return;
    const omit = result.fromProxy === true || takeFault(this.faults.omitProductHeader, path) !== undefined;
    if (omit && result.fromProxy !== true) this.count('omitProductHeader');
    const payload =
      result.body === undefined || req.method === 'HEAD'
        ? ''
        : typeof result.body === 'string'
          ? result.body
          : JSON.stringify(applyFilterPath(result.body, url.searchParams.get('filter_path')));
    const compatible = String(req.headers.accept ?? '').includes('compatible-with');
    const textType = result.fromProxy === true ? 'text/html' : 'text/plain';
    res.writeHead(result.status, {
      ...(omit ? {} : { 'x-elastic-product': 'Elasticsearch' }),
      'content-type':
        typeof result.body === 'string'
          ? textType
          : compatible
            ? 'application/vnd.elasticsearch+json;compatible-with=8'
            : 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      ...(result.headers ?? {}),
    });
    if (takeFault(this.faults.resetMidResponse, path) !== undefined) {
      this.count('resetMidResponse');
      res.write(payload.slice(0, Math.floor(payload.length / 2)));
      req.socket.resetAndDestroy();
      return;
    }
    res.end(payload);
  }

  /** The answer a request gets: an injected fault's, or the route's; 'hang' for none at all. */
  private faultOrDispatch(
    req: http.IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
    receivedBytes: number,
  ): Answer | 'hang' {
    const html = takeFault(this.faults.htmlAnswer, path);
    if (html !== undefined)
      return (this.count('htmlAnswer'), { status: html.status, body: htmlPage(html.status), fromProxy: true });
    const tooLarge =
      this.faults.tooLarge !== undefined && receivedBytes > this.faults.tooLarge.maxBytes
        ? takeFault(this.faults.tooLarge, path)
        : undefined;
    if (tooLarge !== undefined) {
      this.count('tooLarge');
      return tooLarge.fromProxy === true
        ? { status: 413, body: htmlPage(413), fromProxy: true }
        : { status: 413, body: undefined };
    }
    const failure = takeFault(this.faults.failRequests, path);
    if (failure !== undefined)
      return (
        this.count('failRequests'),
        {
          status: failure.status,
          body: requestFailureBodies[failure.status] ?? `${failure.status} injected by the stand-in`,
        }
      );
    const result = this.dispatch(req, path, query, body);
    if (!/\/_bulk$/.test(path)) return result;
    // A hung bulk was executed (its documents are stored) but is never answered, as a node that stalls after
    // indexing: resending it gives 409s.
    if (this.hangs.reject(this.faults.hangShare)) return (this.count('hang'), 'hang');
    if (
      this.drops.reject(this.faults.dropLastItemShare) &&
      isObject(result.body) &&
      Array.isArray(result.body['items']) &&
      result.body['items'].length > 0
    ) {
      this.count('dropLastItem');
      return { ...result, body: { ...result.body, items: result.body['items'].slice(0, -1) } };
    }
    return result;
  }

  private count(fault: string): void {
    this.counts.faultsApplied[fault] = (this.counts.faultsApplied[fault] ?? 0) + 1;
  }

  private dispatch(
    req: http.IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
  ): RouteResult & { headers?: Record<string, string | string[]> } {
    const method = req.method ?? 'GET';
    const candidates = this.routes.map((r) => ({ r, m: r.pattern.exec(path) })).filter((c) => c.m !== null);
    const found = candidates.find((c) => c.r.methods.includes(method));
    try {
      if (found === undefined) {
        if (candidates.length > 0) {
          const allowed = [...new Set(candidates.flatMap((c) => c.r.methods))].join(', ');
          return {
            status: 405,
            body: {
              error: `Incorrect HTTP method for uri [${req.url ?? path}] and method [${method}], allowed: [${allowed}]`,
              status: 405,
            },
          };
        }
        return {
          status: 400,
          body: { error: `no handler found for uri [${req.url ?? path}] and method [${method}]`, status: 400 },
        };
      }
      const contentType = req.headers['content-type'] ?? '';
      if (body.length > 0 && !/^application\/(json|x-ndjson|vnd\.elasticsearch\+(json|x-ndjson))\b/.test(contentType)) {
        return { status: 406, body: { error: `Content-Type header [${contentType}] is not supported`, status: 406 } };
      }
      const principal = this.realm.authenticate(req.headers.authorization, path);
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(found.m?.groups ?? {}))
        if (v !== undefined) params[k] = decodeURIComponent(v);
      const ctx: RequestContext = {
        method,
        path,
        params,
        query,
        body,
        principal,
        store: this.store,
        realm: this.realm,
        changed: () => this.persist(),
      };
      return found.r.handler(ctx);
    } catch (err) {
      if (err instanceof EsHttpError) return { status: err.status, body: err.body(), headers: { ...err.headers } };
      throw err;
    }
  }
}

type Answer = RouteResult & { headers?: Record<string, string | string[]>; fromProxy?: boolean };

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return zlib.gunzipSync(body);
  if (encoding === 'deflate') return zlib.inflateSync(body);
  return body;
}
