/**
 * Question: how much memory does `apm-sidecar proxy` take under an adversarial load, and does it stay healthy?
 * (issue 14 item 4: peak RSS <= 150 MB). Runs the built CLI against a real redis-server; the attack has five
 * phases:
 * - gzip: 12 concurrent gzip streams of valid events with random (barely compressible) content, each near
 *   server.max_request_size decompressed;
 * - lines: 6 concurrent plain bodies of 10 MB lines (too large: refused line by line);
 * - flood: 300 header floods (TLS, 15 KiB of headers trickled in 1 KiB pieces);
 * - tcp: 3,000 TCP connections that never start TLS;
 * - tls: 1,500 TLS connections that trickle their headers.
 * By default each phase runs alone on a fresh proxy (its own peak), then all five at once on another (the
 * adversarial run's peak). The proxy's peak RSS is its VmHWM from /proc. The proxy is started with the Node
 * flags deploy/Dockerfile starts it with (see proxyNodeFlags). Prints one JSON line: per run the peak and idle
 * RSS, the answers, how long the slow connections lived, and whether the proxy still answers afterwards.
 *
 *   npm run build && npx tsx bench/adversarial-rss.ts [--cli dist/cli/apm-sidecar.js] [--body-mb 60]
 *     [--phases gzip,lines,tcp,tls,flood] [--together-only] [--node-flags "--max-semi-space-size=2"]
 *     [--breakdown]
 * --breakdown: also the memory split near the peak (smaps_rollup; V8 heap, spaces and external from /metrics,
 * fetched while the peak rises, so it perturbs the proxy a little).
 * PROXY_NODE_OPTIONS and PROXY_MAX_INFLIGHT_BYTES, when set, are passed to the proxy (NODE_OPTIONS,
 * server.max_inflight_bytes); glibc's MALLOC_* variables are passed on as they are.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';

import { freePort } from '../test/support/ports';
import { RedisServer } from '../test/support/redis';
import { makePki, progress } from './processes';
import { waitReady } from './scenarios/intake';

const token = 'adversarial-token';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const cli = path.resolve(arg('--cli', path.join(__dirname, '..', 'dist', 'cli', 'apm-sidecar.js')));
const bodyBytes = Number(arg('--body-mb', '60')) * 1024 * 1024;

const metadata = '{"metadata":{"service":{"name":"adversary","agent":{"name":"nodejs","version":"4.18.0"}}}}\n';

/** Valid span lines with random hex in them (about 2:1 compressible, like real-world high-entropy ids). */
function randomEvents(bytes: number): Buffer {
  const lines: string[] = [metadata];
  let size = metadata.length;
  let i = 0;
  while (size < bytes) {
    const noise = randomBytes(600).toString('hex');
    const line = `{"span":{"id":"${(i++).toString(16).padStart(16, '0')}","trace_id":"0af7651916cd43dd8448eb211c80319c","parent_id":"b7ad6b7169203331","name":"GET /${noise.slice(0, 200)}","type":"external","timestamp":1764547200000000,"duration":3.2,"context":{"custom":{"noise":"${noise}"}}}}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

interface Answer {
  status: number;
  error?: string;
}

/**
 * One POST over its own TLS connection; the body is written in 64 KiB pieces with backpressure. `connected`
 * resolves once TLS is up (or the connection failed).
 */
function post(
  port: number,
  ca: string,
  body: Buffer,
  headers: Record<string, string>,
  connected: () => void = () => undefined,
): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      connected();
      const head = [
        `POST /intake/v2/events HTTP/1.1`,
        'Host: localhost',
        `Authorization: Bearer ${token}`,
        'Content-Type: application/x-ndjson',
        `Content-Length: ${body.length}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        '',
        '',
      ].join('\r\n');
      socket.write(head);
      let offset = 0;
      const pump = (): void => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + 65536);
          offset += piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    let received = '';
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(received)?.[1] ?? 0) });
        socket.destroy();
      }
    });
    socket.on('error', (err: Error) => {
      connected();
      resolve({ status: 0, error: err.message });
    });
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(received)?.[1] ?? 0) }));
  });
}

/** Starts `n` POSTs of `body`; resolves once every one has its connection, with their answers to come. */
async function posts(
  n: number,
  port: number,
  ca: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ readonly answers: Promise<Answer[]> }> {
  const connections: Promise<void>[] = [];
  const answers: Promise<Answer>[] = [];
  for (let i = 0; i < n; i++) {
    let connected = (): void => undefined;
    connections.push(new Promise<void>((resolve) => (connected = resolve)));
    answers.push(post(port, ca, body, headers, connected));
  }
  await Promise.all(connections);
  return { answers: Promise.all(answers) };
}

/** Holds a connection and measures how long the server keeps it; `feed` sends bytes now and then. */
function held(
  open: () => net.Socket,
  feed: ((s: net.Socket, n: number) => void) | null,
  intervalMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = open();
    let n = 0;
    const timer = feed === null ? undefined : setInterval(() => feed(socket, n++), intervalMs);
    const done = (): void => {
      clearInterval(timer);
      resolve(Date.now() - started);
    };
    socket.on('error', () => undefined);
    socket.on('close', done);
    // The bench's own bound: 90 s.
    setTimeout(() => socket.destroy(), 90_000).unref();
  });
}

function summary(ms: number[]): { count: number; p50_s: number; max_s: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50_s: (sorted[sorted.length >> 1] ?? 0) / 1000,
    max_s: (sorted[sorted.length - 1] ?? 0) / 1000,
  };
}

function statuses(answers: Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers)
    out[a.status === 0 ? `error` : String(a.status)] = (out[a.status === 0 ? `error` : String(a.status)] ?? 0) + 1;
  return out;
}

/** The memory split of the proxy now: smaps_rollup (kB -> MB) and V8's heap figures from its /metrics. */
async function split(pid: number, adminPort: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    for (const field of ['Rss', 'Anonymous', 'Private_Dirty', 'Shared_Clean', 'Private_Clean']) {
      const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
      out[`${field.toLowerCase()}_mb`] = Number((kb / 1024).toFixed(1));
    }
    const text = await fetch(`http://127.0.0.1:${adminPort}/metrics`).then((r) => r.text());
    const gauge = (name: string, labels = ''): number => {
      const m = new RegExp(`^apm_sidecar_${name}\\{${labels}[^}]*\\} ([0-9.e+]+)$`, 'm').exec(text);
      return Number((Number(m?.[1] ?? Number.NaN) / 1048576).toFixed(1));
    };
    out.heap_total_mb = gauge('nodejs_heap_size_total_bytes');
    out.heap_used_mb = gauge('nodejs_heap_size_used_bytes');
    out.external_mb = gauge('nodejs_external_memory_bytes');
    for (const space of ['old_space', 'new_space', 'large_object_space', 'code_space'])
      out[`${space}_mb`] = gauge('nodejs_heap_space_size_total_bytes', `space="${space}"`);
  } catch {
    // the proxy is gone
  }
  return out;
}

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  let status = '';
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN; // the proxy is gone
  }
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
}

/** The proxy's user + system CPU seconds so far (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(((Number(fields[11]) + Number(fields[12])) / 100).toFixed(2));
  } catch {
    return Number.NaN;
  }
}

const allPhases = ['gzip', 'lines', 'flood', 'tcp', 'tls'];

/**
 * The Node flags deploy/docker-compose.yml starts the proxy with (its `entrypoint`: `node <flags> dist/cli/...`),
 * so the bench measures the proxy as it is deployed; `--node-flags none` for none.
 */
function proxyNodeFlags(): string[] {
  const given = arg('--node-flags', '');
  if (given === 'none') return [];
  if (given !== '') return given.split(' ').filter((f) => f !== '');
  const compose = fs.readFileSync(path.join(__dirname, '..', 'deploy', 'docker-compose.yml'), 'utf8');
  const entrypoint = /^ {2}proxy:\n(?: {4}.*\n|\n)*? {4}entrypoint: (\[.*\])$/m.exec(compose)?.[1];
  if (entrypoint === undefined) throw new Error('deploy/docker-compose.yml: the proxy service has no entrypoint');
  const parsed: unknown = JSON.parse(entrypoint);
  if (!Array.isArray(parsed)) throw new Error('deploy/docker-compose.yml: the proxy entrypoint is not a list');
  return parsed.map(String).filter((a) => a.startsWith('--'));
}

interface Bodies {
  readonly gzip: Buffer;
  readonly bigLines: Buffer;
}

function buildBodies(): Bodies {
  const plainEvents = randomEvents(bodyBytes);
  const gzip = zlib.gzipSync(plainEvents, { level: 1 });
  const hugeLine = `{"span":{"name":"${'x'.repeat(10 * 1024 * 1024)}"}}\n`;
  const bigLines = Buffer.from(metadata + hugeLine + hugeLine + hugeLine);
  progress(
    `gzip body ${(gzip.length / 1048576).toFixed(1)} MB -> ${(plainEvents.length / 1048576).toFixed(1)} MB; 10 MB-line body ${(bigLines.length / 1048576).toFixed(1)} MB`,
  );
  return { gzip, bigLines };
}

/** One proxy, one attack of `phases` at once; the proxy's figures. */
async function attack(
  phases: ReadonlySet<string>,
  bodies: Bodies,
  pki: ReturnType<typeof makePki>,
  redisUrl: string,
  nodeFlags: readonly string[],
): Promise<Record<string, unknown>> {
  const count = (phase: string, n: number): number => (phases.has(phase) ? n : 0);
  const ca = fs.readFileSync(pki.caFile, 'utf8');
  const port = await freePort();
  const adminPort = await freePort();
  const proxy = spawn(process.execPath, [...nodeFlags, cli, 'proxy'], {
    env: {
      PATH: process.env.PATH,
      APM_SIDECAR_HOST: `127.0.0.1:${port}`,
      APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
      APM_SIDECAR_SECRET_TOKEN: token,
      APM_SIDECAR_SSL_CERTIFICATE: pki.certFile,
      APM_SIDECAR_SSL_KEY: pki.keyFile,
      APM_SIDECAR_REDIS_URL: redisUrl,
      APM_SIDECAR_LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_'))),
      ...(process.env.PROXY_NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS: process.env.PROXY_NODE_OPTIONS }),
      ...(process.env.PROXY_MAX_INFLIGHT_BYTES === undefined
        ? {}
        : { APM_SIDECAR_SERVER_MAX_INFLIGHT_BYTES: process.env.PROXY_MAX_INFLIGHT_BYTES }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exitedAt = new Promise<string>((resolve) =>
    proxy.once('exit', (code, signal) => resolve(`exit ${String(code)} signal ${String(signal)}`)),
  );
  let exited: string | null = null;
  void exitedAt.then((how) => (exited = how));
  try {
    await Promise.race([
      waitReady(adminPort),
      exitedAt.then((how) => Promise.reject(new Error(`the proxy ended before it was ready (${how})`))),
    ]);
    const pid = proxy.pid ?? 0;
    let peakBeforeExit = 0;
    const idle = vm(pid, 'VmRSS');
    progress(`[${[...phases].join(',')}] proxy ready, RSS ${idle.toFixed(0)} MB; attacking`);

    const started = Date.now();
    // The bodies connect first: the connection floods that follow would otherwise fill server.max_connections
    // and the bodies would never reach the proxy (they are then refused at connect, which costs it nothing).
    const gzipAnswers = await posts(count('gzip', 12), port, ca, bodies.gzip, { 'Content-Encoding': 'gzip' });
    const lineAnswers = await posts(count('lines', 6), port, ca, bodies.bigLines, {});
    const slowHeaderHead = `POST /intake/v2/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n`;
    const tcpSilent = Array.from({ length: count('tcp', 3000) }, () =>
      held(() => net.connect(port, '127.0.0.1'), null, 0),
    );
    const tlsSlow = Array.from({ length: count('tls', 1500) }, () =>
      held(
        () => tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }),
        (s, n) => s.write(n === 0 ? slowHeaderHead : `X-Slow-${n}: a\r\n`),
        2000,
      ),
    );
    const floods = Array.from({ length: count('flood', 300) }, () =>
      held(
        () => tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }),
        (s, n) => s.write(n === 0 ? slowHeaderHead : `X-Flood-${n}: ${'f'.repeat(1000)}\r\n`),
        200,
      ),
    );

    let peakSampled = 0;
    let peakSplit: Record<string, number> = {};
    let splitting = false;
    const breakdown = process.argv.includes('--breakdown');
    const sampler = setInterval(() => {
      const rss = vm(pid, 'VmRSS');
      if (!Number.isNaN(rss) && rss > peakSampled && breakdown && !splitting) {
        splitting = true;
        void split(pid, adminPort).then((s) => {
          splitting = false;
          if ((s.rss_mb ?? 0) >= (peakSplit.rss_mb ?? 0)) peakSplit = s;
        });
      }
      if (!Number.isNaN(rss)) peakSampled = Math.max(peakSampled, rss);
      const hwm = vm(pid, 'VmHWM');
      if (!Number.isNaN(hwm)) peakBeforeExit = hwm;
    }, 100);
    const [gzip, lines] = await Promise.all([gzipAnswers.answers, lineAnswers.answers]);
    const [silent, slow, flood] = await Promise.all([
      Promise.all(tcpSilent),
      Promise.all(tlsSlow),
      Promise.all(floods),
    ]);
    clearInterval(sampler);

    const after = await post(
      port,
      ca,
      zlib.gzipSync(
        Buffer.from(
          `${metadata}{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","timestamp":1764547200000000,"duration":1}}\n`,
        ),
      ),
      { 'Content-Encoding': 'gzip' },
    );
    const healthz = await fetch(`http://127.0.0.1:${adminPort}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    const cpu = cpuSeconds(pid);
    const peak = Number.isNaN(vm(pid, 'VmHWM')) ? peakBeforeExit : vm(pid, 'VmHWM');
    progress(`[${[...phases].join(',')}] peak RSS ${peak.toFixed(0)} MB after ${(Date.now() - started) / 1000} s`);
    return {
      peak_rss_mb: Number(peak.toFixed(1)),
      idle_rss_mb: Number(idle.toFixed(1)),
      peak_rss_sampled_mb: Number(peakSampled.toFixed(1)),
      ...(breakdown ? { at_peak: peakSplit, after_split: await split(pid, adminPort) } : {}),
      proxy_exited: exited,
      ...(phases.has('gzip') ? { gzip_streams: statuses(gzip) } : {}),
      ...(phases.has('lines') ? { ten_mb_line_bodies: statuses(lines) } : {}),
      ...(phases.has('tcp') ? { tcp_never_tls: summary(silent) } : {}),
      ...(phases.has('tls') ? { tls_slow_headers: summary(slow) } : {}),
      ...(phases.has('flood') ? { header_floods: summary(flood) } : {}),
      after: { intake: after.status, healthz },
      cpu_s: cpu,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (exited === null) {
      proxy.kill('SIGTERM');
      await exitedAt;
    }
  }
}

async function main(): Promise<void> {
  const phases = arg('--phases', allPhases.join(',')).split(',');
  const unknown = phases.filter((p) => !allPhases.includes(p));
  if (unknown.length > 0) throw new Error(`unknown phase(s) ${unknown.join(',')}; phases: ${allPhases.join(',')}`);
  const nodeFlags = proxyNodeFlags();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adversarial-'));
  const pki = makePki(dir);
  const redis = await RedisServer.start();
  try {
    const bodies = buildBodies();
    const alone: Record<string, unknown> = {};
    if (!process.argv.includes('--together-only') && phases.length > 1) {
      for (const phase of phases) alone[phase] = await attack(new Set([phase]), bodies, pki, redis.url, nodeFlags);
    }
    const together = await attack(new Set(phases), bodies, pki, redis.url, nodeFlags);
    const peaks = [together, ...Object.values(alone)].map((r) => (r as { peak_rss_mb: number }).peak_rss_mb);
    process.stdout.write(
      `${JSON.stringify({
        cli,
        node_flags: nodeFlags.join(' '),
        body_mb: bodyBytes / 1048576,
        peak_rss_mb: Math.max(...peaks),
        together: { phases: phases.join(','), ...together },
        alone,
      })}\n`,
    );
  } finally {
    await redis.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`adversarial-rss: ${String(err)}\n`);
  process.exitCode = 1;
});
