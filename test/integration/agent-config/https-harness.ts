import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

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
