import http from 'node:http';
import https from 'node:https';

import { Registry } from 'prom-client';

import { loadConfig } from '../../../config/load';
import { createUpstreamPassthrough, type UpstreamPassthrough } from '../../../proxy/passthrough';
import { passthroughRoute } from '../../../proxy/passthrough/route';
import { testPki } from '../../support/certs';
import { LogSink } from '../../support/log-sink';
import { freePort } from '../../support/ports';
import { serveRoute, startTlsServer, type TestServer, tlsRequest, waitFor } from '../agent-config/https-harness';

const identity = { kind: 'secret_token', id: '0' } as const;
const largeBytes = 32 * 1024 * 1024;

/** What the test upstream saw of the last request to /echo. */
interface Seen {
  headers: http.IncomingHttpHeaders;
  firstChunk: Promise<void>;
  markFirstChunk: () => void;
}

function newSeen(): Seen {
  let markFirstChunk = (): void => undefined;
  const firstChunk = new Promise<void>((resolve) => {
    markFirstChunk = resolve;
  });
  return { headers: {}, firstChunk, markFirstChunk };
}

let seen = newSeen();
let clientGotFirstPart: () => void = () => undefined;

/** The upstream: an APM Server-like TLS server with one behaviour per path. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.headers = req.headers;
  switch (req.url) {
    case '/echo':
      req.once('data', () => seen.markFirstChunk());
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': '1',
        'x-upstream': 'yes',
      });
      req.pipe(res);
      return;
    case '/cookie':
      req.resume();
      res.writeHead(200, { 'set-cookie': 'upstream-session=secret', 'x-upstream': 'yes' }).end('ok');
      return;
    case '/large': {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = (): void => {
        while (sent < largeBytes) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case '/two-parts':
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one;');
      new Promise<void>((resolve) => {
        clientGotFirstPart = resolve;
      }).then(
        () => res.end('part two'),
        () => undefined,
      );
      return;
    case '/slow':
      req.resume();
      setTimeout(() => res.writeHead(200).end('too late'), 5_000).unref();
      return;
    case '/reset-mid-response':
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 1), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    default:
      req.resume();
      res.writeHead(404).end();
  }
}

interface Front {
  readonly server: TestServer;
  readonly passthrough: UpstreamPassthrough;
  readonly sink: LogSink;
  readonly registry: Registry;
}

const started: Array<() => Promise<void>> = [];
let upstream: TestServer;

beforeAll(async () => {
  upstream = await startTlsServer(upstreamHandler);
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  seen = newSeen();
  for (const stop of started.splice(0).reverse()) await stop();
});

async function front(
  upstreamOverrides: Record<string, unknown>,
  serverOverrides: Record<string, unknown> = {},
): Promise<Front> {
  const config = loadConfig({
    env: {},
    overrides: {
      server: serverOverrides,
      upstream: { ssl: { certificate_authorities: [testPki().caFile] }, ...upstreamOverrides },
    },
  }).config;
  const sink = new LogSink();
  const registry = new Registry();
  const passthrough = createUpstreamPassthrough(config, { logger: sink.logger(), registry });
  if (passthrough === null) throw new Error('expected a pass-through');
  await passthrough.start();
  const server = await startTlsServer(serveRoute(passthroughRoute(passthrough), identity, sink.logger()));
  started.push(async () => {
    await server.close();
    await passthrough.close();
  });
  return { server, passthrough, sink, registry };
}

/** A request whose body is sent in two parts, the second only after the upstream received the first. */
function streamedEcho(url: string, headers: http.OutgoingHttpHeaders): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${url}/echo`,
      { method: 'POST', headers, ca: testPki().ca.cert, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(
            `${res.statusCode ?? 0} ${String(res.headers['x-upstream'] ?? '')} ${String(res.headers['x-upstream-hop'] ?? '-')} ${Buffer.concat(chunks).toString()}`,
          ),
        );
      },
    );
    req.on('error', reject);
    req.write('first;');
    seen.firstChunk.then(() => req.end('second'), reject);
  });
}

describe('pass-through to the upstream (http-proxy-3)', () => {
  it("streams a request both ways without buffering, swapping the agent's credential for the upstream's", async () => {
    const { server, sink, registry } = await front({ url: upstream.url, secret_token: 'upstream-token' });
    const answer = await streamedEcho(server.url, {
      authorization: 'Bearer agent-token',
      connection: 'keep-alive, x-hop',
      'x-hop': 'dropped',
      'proxy-authorization': 'Basic eA==',
      'x-kept': 'kept',
    });
    expect(answer).toBe('200 yes - first;second');
    expect(seen.headers.authorization).toBe('Bearer upstream-token');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-kept']).toBe('kept');
    expect(seen.headers['x-forwarded-for']).toBeUndefined();
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(await registry.getSingleMetricAsString('apm_sidecar_upstream_responses_total')).toContain('status="200"} 1');
    sink.assertNoUnexpectedErrors();
  });

  it('sends the upstream API key, or no credential at all, and X-Forwarded-For only when configured', async () => {
    const withKey = await front({ url: upstream.url, api_key: 'key-id:key-secret', x_forwarded_for: true });
    await tlsRequest(`${withKey.server.url}/echo`, {
      method: 'POST',
      headers: { authorization: 'Bearer agent-token', 'x-forwarded-for': '10.0.0.1' },
      body: 'x',
    });
    expect(seen.headers.authorization).toBe(`ApiKey ${Buffer.from('key-id:key-secret').toString('base64')}`);
    // The agent's own X-Forwarded-For is not believed (it is not a trusted proxy): rebuilt from the real peer.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.forwarded).toBe('for=127.0.0.1');
    const without = await front({ url: upstream.url });
    await tlsRequest(`${without.server.url}/echo`, {
      method: 'POST',
      headers: { authorization: 'ApiKey agent-key' },
      body: 'x',
    });
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("rebuilds X-Forwarded-For and Forwarded from the real peer, keeps a trusted proxy's chain, drops cookies both ways", async () => {
    const spoofed = {
      authorization: 'Bearer agent-token',
      'x-forwarded-for': '6.6.6.6',
      forwarded: 'for=6.6.6.6',
      'x-real-ip': '6.6.6.6',
      cookie: 'session=agent',
    };
    const untrusted = await front({ url: upstream.url, x_forwarded_for: true });
    const answer = await tlsRequest(`${untrusted.server.url}/cookie`, { method: 'POST', headers: spoofed, body: 'x' });
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['x-upstream']).toBe('yes');
    expect([
      seen.headers['x-forwarded-for'],
      seen.headers.forwarded,
      seen.headers['x-real-ip'],
      seen.headers.cookie,
    ]).toEqual(['127.0.0.1', 'for=127.0.0.1', undefined, undefined]);

    const off = await front({ url: upstream.url });
    await tlsRequest(`${off.server.url}/cookie`, { method: 'POST', headers: spoofed, body: 'x' });
    expect([seen.headers['x-forwarded-for'], seen.headers.forwarded, seen.headers['x-real-ip']]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);

    const trusted = await front({ url: upstream.url, x_forwarded_for: true }, { trusted_proxies: ['127.0.0.0/8'] });
    await tlsRequest(`${trusted.server.url}/cookie`, { method: 'POST', headers: spoofed, body: 'x' });
    expect([seen.headers['x-forwarded-for'], seen.headers.forwarded, seen.headers.cookie]).toEqual([
      '6.6.6.6, 127.0.0.1',
      'for=6.6.6.6, for=127.0.0.1',
      undefined,
    ]);
  });

  it('streams a large response and delivers its first part before the upstream has finished', async () => {
    const { server, sink } = await front({ url: upstream.url });
    const large = await tlsRequest(`${server.url}/large`);
    expect([large.status, large.body.length]).toEqual([200, largeBytes]);
    const twoParts = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.url}/two-parts`, { ca: testPki().ca.cert, agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
            if (text === 'part one;') clientGotFirstPart();
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(twoParts).toBe('part one;part two');
    sink.assertNoUnexpectedErrors();
  });

  it('answers 502 when the upstream refuses the connection or its certificate is not trusted', async () => {
    const down = await front({ url: `https://127.0.0.1:${await freePort()}` });
    const refused = await tlsRequest(`${down.server.url}/anything`, { method: 'POST', body: 'payload' });
    expect([refused.status, JSON.parse(refused.body.toString()), refused.headers.connection]).toEqual([
      502,
      { error: 'upstream unavailable' },
      'close',
    ]);
    expect(await down.registry.getSingleMetricAsString('apm_sidecar_upstream_responses_total')).toContain(
      'status="error"} 1',
    );
    down.sink.assertNoUnexpectedErrors([/SIDECAR_ERR_UPSTREAM_UNAVAILABLE/]);

    const untrusted = await front({ url: upstream.url, ssl: { certificate_authorities: [] } });
    expect((await tlsRequest(`${untrusted.server.url}/echo`, { method: 'POST', body: 'x' })).status).toBe(502);
    expect(seen.headers).toEqual({});
  });

  it('answers 504 when the upstream does not answer within upstream.timeout', async () => {
    const { server, sink, registry } = await front({ url: upstream.url, timeout: '300ms' });
    const res = await tlsRequest(`${server.url}/slow`);
    expect([res.status, JSON.parse(res.body.toString())]).toEqual([504, { error: 'upstream timed out' }]);
    expect(await registry.getSingleMetricAsString('apm_sidecar_upstream_responses_total')).toContain(
      'status="timeout"} 1',
    );
    sink.assertNoUnexpectedErrors([/SIDECAR_ERR_UPSTREAM_TIMEOUT/]);
  });

  it("breaks the client's connection, without a hang or an unhandled error, when the upstream resets mid-response", async () => {
    const { server, sink } = await front({ url: upstream.url });
    await expect(tlsRequest(`${server.url}/reset-mid-response`)).rejects.toThrow();
    await waitFor(
      () =>
        sink.lines.some((l) => l.level === 'warn' && /broke its response off/.test(String(l.msg))) ? true : undefined,
      5_000,
      'the warning',
    );
    sink.assertNoUnexpectedErrors();
    // The front keeps serving.
    await waitFor(
      async () =>
        (await tlsRequest(`${server.url}/echo`, { method: 'POST', body: 'ok' })).status === 200 ? true : undefined,
      5_000,
      'a healthy answer',
    );
  });

  it('is not built without upstream.url (unknown paths stay 404)', () => {
    const config = loadConfig({ env: {}, overrides: {} }).config;
    expect(createUpstreamPassthrough(config, { logger: new LogSink().logger() })).toBeNull();
  });
});
