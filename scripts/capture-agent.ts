/**
 * Regenerates the data the project makes itself from the real elastic-apm-node agent (a devDependency):
 *   test/fixtures/agent-nodejs/  one intake request of a small app (5 HTTP transactions with a db span each,
 *                                one error, metricsets), as received: the gzip body, its ndjson, and the
 *                                requests' method, url and headers (secret token replaced by <secret-token>)
 *   test/fixtures/bench/         a throughput corpus for bench/: the trace events of 4,000 HTTP transactions
 *                                (1-3 db spans each, an error every 50th), gzip-compressed
 * Run: npx tsx scripts/capture-agent.ts [small|corpus|all]. The agent sends to a local capturing server here;
 * nothing leaves the machine. After regenerating, the event count in test/integration/proxy/golden/verbose.json
 * follows the new capture.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(__dirname, '..');
const token = 'capture-secret-token';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Answers the agent as APM Server 8.x does, and keeps every request. */
async function captureServer(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string')
          headers[name] = name === 'authorization' ? value.replace(token, '<secret-token>') : value;
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks) });
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            build_date: '2025-01-01T00:00:00Z',
            build_sha: 'capture',
            publish_ready: true,
            version: '8.19.0',
          }),
        );
      } else if (req.url?.startsWith('/config/v1/agents') === true) {
        res.writeHead(200, { 'Content-Type': 'application/json', Etag: '"capture"' }).end('{}');
      } else {
        res.writeHead(202).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('capture server not listening');
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The instrumented app: an HTTP server whose handler queries a "db"; `requests` calls to it, then flush. */
const app = `
const apm = require('elastic-apm-node').start({
  serviceName: 'demo-svc', serviceVersion: '1.0.0', environment: 'test', serverUrl: process.env.SERVER_URL,
  secretToken: process.env.SECRET_TOKEN, metricsInterval: process.env.METRICS_INTERVAL, cloudProvider: 'none',
  captureExceptions: false, logLevel: 'warn', hostname: 'app-host', centralConfig: true,
});
const http = require('node:http');
const requests = Number(process.env.REQUESTS);
const server = http.createServer((req, res) => {
  const spans = 1 + (Number(req.url.slice(1)) % 3);
  let left = spans;
  for (let i = 0; i < spans; i++) {
    const span = apm.startSpan('db-query', 'db', 'postgresql', 'query');
    setImmediate(() => {
      if (span) span.end();
      if (--left > 0) return;
      if (Number(req.url.slice(1)) % 50 === 3) apm.captureError(new Error('payment declined'));
      res.end('ok');
    });
  }
});
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  for (let i = 0; i < requests; i++) {
    await new Promise((resolve, reject) => http.get({ port, host: '127.0.0.1', path: '/' + i, agent: false }, (r) => { r.resume(); r.on('end', resolve); }).on('error', reject));
  }
  setTimeout(() => apm.flush((err) => { server.close(); process.exit(err ? 2 : 0); }), Number(process.env.SETTLE_MS));
});
`;

async function runApp(env: Record<string, string>): Promise<Received[]> {
  const capture = await captureServer();
  try {
    const child = spawn(process.execPath, ['-e', app], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SERVER_URL: capture.url, SECRET_TOKEN: token, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the agent app exited ${String(code)}`);
    return capture.received;
  } finally {
    await capture.close();
  }
}

const intake = (r: Received): boolean => r.method === 'POST' && r.url === '/intake/v2/events';
const ndjsonOf = (r: Received): string => zlib.gunzipSync(r.body).toString('utf8');

async function captureSmall(): Promise<void> {
  const received = await runApp({ REQUESTS: '5', METRICS_INTERVAL: '1s', SETTLE_MS: '1500' });
  const bodies = received.filter(intake);
  if (bodies.length !== 1) throw new Error(`expected one intake request, got ${bodies.length}: run again`);
  const [body] = bodies;
  if (body === undefined) throw new Error('no intake request');
  const dir = path.join(root, 'test', 'fixtures', 'agent-nodejs');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'intake-v2-events.ndjson.gz'), body.body);
  fs.writeFileSync(path.join(dir, 'intake-v2-events.ndjson'), ndjsonOf(body));
  const port = new URL(body.headers.host === undefined ? 'http://x' : `http://${body.headers.host}`).port;
  const requests = received.map((r) => ({
    method: r.method,
    url: r.url,
    headers: { ...r.headers, ...(r.headers.host === undefined ? {} : { host: r.headers.host.replace(port, '8200') }) },
  }));
  fs.writeFileSync(path.join(dir, 'requests.json'), `${JSON.stringify(requests, null, 1)}\n`);
  const events =
    ndjsonOf(body)
      .split('\n')
      .filter((l) => l.trim() !== '').length - 1;
  process.stdout.write(
    `${dir}: ${events} events in one request; test/integration/proxy/golden/verbose.json must read {"accepted":${events}}\n`,
  );
}

async function captureCorpus(): Promise<void> {
  const received = await runApp({ REQUESTS: '4000', METRICS_INTERVAL: '0s', SETTLE_MS: '200' });
  const lines = received.filter(intake).flatMap((r) =>
    ndjsonOf(r)
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
  const metadata = lines.find((l) => l.startsWith('{"metadata"'));
  if (metadata === undefined) throw new Error('the agent sent no metadata');
  const events = lines.filter(
    (l) => l.startsWith('{"transaction"') || l.startsWith('{"span"') || l.startsWith('{"error"'),
  );
  const file = path.join(root, 'test', 'fixtures', 'bench', 'agent-nodejs-traces.ndjson.gz');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Kept compressed: the ndjson is ~5 MB.
  fs.writeFileSync(file, zlib.gzipSync(`${[metadata, ...events].join('\n')}\n`, { level: 9 }));
  process.stdout.write(`${file}: ${events.length} events, ${fs.statSync(file).size} bytes\n`);
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? 'all';
  if (what === 'small' || what === 'all') await captureSmall();
  if (what === 'corpus' || what === 'all') await captureCorpus();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
