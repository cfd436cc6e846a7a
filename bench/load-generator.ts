/**
 * A load generator run as its own process (so its CPU is not the server's): POSTs agent-sized gzip requests to
 * /intake/v2/events over TLS with a fixed number of connections for a bounded time, and prints one JSON line
 * with counts and latency percentiles. Loopback only.
 *
 *   tsx bench/load-generator.ts '{"url":"https://127.0.0.1:8200","ca":"ca.crt","token":"t","requests":"reqs.json","seconds":10,"connections":16}'
 */
import fs from 'node:fs';

import { Pool } from 'undici';

import { readRequestsFile } from './corpus';
import { procStat } from './procstat';

interface LoadOptions {
  url: string;
  ca?: string;
  token?: string;
  requests: string;
  seconds: number;
  connections: number;
  /** Stop after this many requests (0: only the time bound). */
  maxRequests?: number;
  /** Another endpoint than /intake/v2/events (the OTLP scenario: /v1/traces with application/x-protobuf). */
  path?: string;
  contentType?: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly eventsAccepted: number;
  readonly rawBytesAccepted: number;
  readonly seconds: number;
  readonly latencyMs: { p50: number; p99: number; max: number };
  /** Latency of the 503 answers alone. */
  readonly latency503Ms: { p50: number; p99: number; max: number } | null;
  readonly networkErrors: number;
  /** The load generator's own CPU seconds over the load, from /proc (it shares the cores with what it loads). */
  readonly cpuSeconds: number;
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1] ?? 0) };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  const bodies = readRequestsFile(options.requests);
  const origin = new URL(options.url).origin;
  const pool = new Pool(origin, {
    connections: options.connections,
    connect: options.ca === undefined ? {} : { ca: fs.readFileSync(options.ca) },
  });
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-ndjson',
    'content-encoding': 'gzip',
    'user-agent': 'apm-agent-nodejs/4.18.0 (bench 1.0.0)',
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const byStatus: Record<string, number> = {};
  const latencies: number[] = [];
  const latencies503: number[] = [];
  let requests = 0;
  let eventsAccepted = 0;
  let rawBytesAccepted = 0;
  let networkErrors = 0;
  let next = 0;
  const cpuBefore = procStat(process.pid).cpuSeconds;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + options.seconds * 1000;
  const max = options.maxRequests ?? 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline && (max === 0 || requests < max)) {
      const req = bodies[next++ % bodies.length];
      if (req === undefined) return;
      requests++;
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          path: options.path ?? '/intake/v2/events',
          method: 'POST',
          headers,
          body: req.body,
        });
        await res.body.dump();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        latencies.push(ms);
        byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 202 || res.statusCode === 200) {
          eventsAccepted += req.events;
          rawBytesAccepted += req.rawBytes;
        } else if (res.statusCode === 503) {
          latencies503.push(ms);
        }
      } catch {
        networkErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuSeconds = procStat(process.pid).cpuSeconds - cpuBefore;
  await pool.close();
  const result: LoadResult = {
    requests,
    byStatus,
    eventsAccepted,
    rawBytesAccepted,
    seconds: round(seconds),
    latencyMs: percentiles(latencies),
    latency503Ms: latencies503.length > 0 ? percentiles(latencies503) : null,
    networkErrors,
    cpuSeconds,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`load-generator: ${String(err)}\n`);
  process.exitCode = 1;
});
