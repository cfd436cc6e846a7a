import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import type { Logger } from 'pino';
import { Registry } from 'prom-client';

import { AgentAnswers } from '../../../proxy/answer';
import { ProxyMetrics } from '../../../proxy/metrics';
import type { DeclaredRoute, ProxyRequest } from '../../../proxy/routes';
import type { Identity } from '../../../queue/contract';
import { testPki } from '../../support/certs';

/** A real TLS server on 127.0.0.1 port 0 that hands every request to `handler`, until the proxy's server lands. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startTlsServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TestServer> {
  const pki = testPki();
  const server = https.createServer(
    { cert: fs.readFileSync(pki.serverCertFile), key: fs.readFileSync(pki.serverKeyFile) },
    handler,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves one route as the proxy's server does, without the rest of the proxy: the handler's answer, or whatever
 * it throws rendered in the route's words by the one renderer (proxy/answer.ts).
 */
export function serveRoute(
  route: DeclaredRoute,
  identity: Identity,
  logger: Logger,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const answers = new AgentAnswers(new ProxyMetrics(new Registry()), logger);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const request: ProxyRequest = {
      id: 'test',
      receivedAt: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      clientIp: req.socket.remoteAddress ?? '',
      clientPort: req.socket.remotePort ?? null,
      responseHeaders: {},
      body: req,
    };
    void route
      .handler(request, identity, res)
      .catch((err: unknown) => answers.fail(err, req.headers, { path: request.path }, route.errorBody))
      .then((response) => answers.send(res, response, 0, false, false));
  };
}

export interface TestResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TestRequestOptions {
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: string | Buffer;
}

/** One request over TLS trusting the test CA, on a fresh connection; rejects when the connection breaks. */
export function tlsRequest(url: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, ca: testPki().ca.cert, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () =>
          res.complete
            ? resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
            : reject(new Error('response incomplete')),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
