/**
 * npm run bench: every scenario, ours and its baseline side by side, then docs/benchmarks.md + .svg.
 *   npm run bench                  full run (a few minutes)
 *   npm run bench -- --smoke       a few seconds per scenario; writes nothing (CI runs this)
 *   npm run bench -- --only intake,e2e   (names: intake, workers, otlp, e2e, e2e2, overload, transform)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { agentRequests } from './corpus';
import { goalsNotMet } from './goals-not-met';
import { machineSpeed, machineSpeedSection } from './machine-speed';
import { makePki, progress, repoRoot } from './processes';
import { type Analysis, type ScenarioResult, writeReport } from './report';
import { endToEndScenario } from './scenarios/end-to-end';
import { intakeScenario } from './scenarios/intake';
import { intakeWorkersScenario } from './scenarios/intake-workers';
import { otlpIntakeScenario } from './scenarios/otlp-intake';
import { overloadScenario } from './scenarios/overload';
import { scaleScenario } from './scenarios/scale';
import { transformScenario } from './scenarios/transform';

interface Args {
  readonly smoke: boolean;
  readonly only: readonly string[] | null;
  readonly out: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const onlyIndex = argv.indexOf('--only');
  const outIndex = argv.indexOf('--out');
  return {
    smoke: argv.includes('--smoke'),
    only: onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? '').split(',') : null,
    out: outIndex >= 0 ? (argv[outIndex + 1] ?? null) : null,
  };
}

/** How to read the numbers; what limits each ratio is in the closing note of the benchmark issue and below. */
const notes = [
  'intake: the baseline only gunzips; the proxy also parses every line (JSON.parse), validates it against the intake v2 schemas, checks the token over TLS and waits for Redis to acknowledge one BullMQ job per request. Compare "events per proxy CPU s" with "events per baseline CPU s": the ratio is CPU-bound on one core, and the proxy is stateless, so more proxy processes scale it.',
  'end-to-end: both sides write to bench/bulk-sink.ts, an HTTPS keep-alive sink that inflates each bulk, counts its lines and answers every document 201 by position (its own CPU is reported as "sink" and is not part of the pipeline sums). Ours runs the proxy, Redis (AOF everysec) and the forwarder on the same 2 cores as the load generator and the sink, at the defaults (durability applied), and includes the last flush in its time. CPU seconds come from /proc/<pid>/stat of each process, peak RSS from VmHWM (startup included); idle CPU is measured over a window of no traffic (60 s; 3 s in the CI smoke run) that starts 30 s after every process is ready (1 s in the smoke run): the tail of startup, mostly one garbage collection of its startup garbage a few seconds after ready, is reported apart as "CPU s while settling". "bytes to Elasticsearch per event" is the bulk request bodies as sent (gzip) over the documents, HTTP headers excluded.',
  "overload: no forwarder drains the queue, so everything past the high-water mark is refused. The goal is judged on the proxy's own request_duration_seconds histogram; the latency the load generator sees also includes a new TLS connection per 503 (every status >= 400 closes the connection, as APM Server does) and the load generator's own CPU.",
  'intake, 2 workers: the intake load against `apm-sidecar proxy` with server.workers 1, then 2 (node:cluster, one port), in the same run, each on a fresh redis-server; proxy CPU is the primary and its workers together, from /proc. This machine has 2 cores and the load generator (TLS client and gzip bodies) and Redis run on them too, so the second worker competes with them instead of getting a core of its own: read the ratio as a floor, and "proxy cores busy" for how much more CPU the proxy could use. On a machine with a core per worker plus room for Redis the events/s grow with the workers until Redis is the limit.',
  'transform: one process, one core, including JSON.parse of the event and JSON.stringify of the document.',
  'where it goes: the section of that name is written from a profiled pass of the end-to-end scenario in this run (node --cpu-prof of the proxy and forwarder, Redis INFO commandstats, /proc memory and context switches); --cpu-prof samples wall time, so on shared cores a process preempted inside a write shows there as that write. For on-CPU samples alone use perf record of the process (perf record -g -p <pid>).',
  "idle: Redis runs at hz 1 here, as `start` and the compose file run it (a bare redis-server 7.0 at its default hz 10 costs about 0.15% of a core on this machine with no client at all, about 0.04% at hz 1; what runs less often is in cli/start/redis-server.ts). With no traffic the proxy polls Redis every 30 s (250 ms under traffic; the first request after an idle spell reads it first), the forwarder reads Redis' safety every 30 s (every second while jobs settle) and blocks 30 s per BZPOPMIN (BullMQ drainDelay), the certificate and token files are checked every 10 s (server.ssl.reload_interval), and the Node processes sample their event-loop delay once a second. Idle figures on a machine busy with other work run higher: each wake-up costs more there.",
  'scale: the same requests through 1 proxy + 1 Redis + 1 forwarder, then 2 proxies + a 3-master Redis Cluster (queue.partitions 3, no replicas) + 2 forwarders, on the same sink. Every process shares the same 2 cores here, so the spread layout cannot show a real gain: read its CPU s per 100k events (the overhead of more processes and cluster routing); its events/s can still come out higher when other load shares the machine, as more processes get more of the contended cores. The "projected events/s per <role> core" figures are events over that role\'s CPU seconds: what one core given to that role carries, the figure to size nodes by.',
  'otlp: OTLP/HTTP protobuf requests of 40 spans (gzip) written by the OpenTelemetry JS SDK serializer, through TLS, the token, a full protobuf decode and the durable enqueue; no baseline (APM Server is not run here), so the figure is spans per proxy CPU second.',
];

function detail(results: readonly ScenarioResult[], scenario: string, key: string): number | undefined {
  const value = results.find((r) => r.scenario === scenario)?.details[key];
  return typeof value === 'number' ? value : undefined;
}

/** The sizing figures docs/operations.md points to, derived from this run (never typed by hand). */
function sizing(results: readonly ScenarioResult[], requests: ReturnType<typeof agentRequests>): string[] {
  const events = requests.reduce((n, r) => n + r.events, 0);
  const raw = requests.reduce((n, r) => n + r.rawBytes, 0) / events;
  const compressed = requests.reduce((n, r) => n + r.body.length, 0) / events;
  const redisPerRaw = detail(results, 'overload', 'Redis bytes per raw intake byte');
  const proxyRate = detail(results, 'intake', 'events per proxy CPU s');
  const forwarderPer100k = detail(results, 'end-to-end', 'forwarder CPU s per 100k events');
  const forwarderCpu = forwarderPer100k === undefined ? undefined : forwarderPer100k / 100_000;
  const lines = [
    `sizing: the corpus averages ${raw.toFixed(0)} bytes per event uncompressed and ${compressed.toFixed(0)} bytes per event gzip-compressed (40-event requests).`,
  ];
  if (redisPerRaw !== undefined) {
    const perEvent = redisPerRaw * raw;
    lines.push(
      `sizing: Redis holds ${redisPerRaw.toFixed(3)} bytes per raw intake byte queued (job hash and lists included): ${perEvent.toFixed(0)} bytes per queued event, ${((perEvent * 1e6) / 2 ** 20).toFixed(0)} MiB per million queued events.`,
    );
  }
  const otlpRate = detail(results, 'otlp', 'events per proxy CPU s');
  if (otlpRate !== undefined)
    lines.push(
      `sizing: one proxy process accepts about ${otlpRate.toFixed(0)} OTLP spans per CPU second (OTLP/HTTP protobuf, TLS, decode and enqueue included).`,
    );
  if (proxyRate !== undefined)
    lines.push(
      `sizing: one proxy process accepts about ${proxyRate.toFixed(0)} events per CPU second (TLS, validation and enqueue included).`,
    );
  if (forwarderCpu !== undefined && forwarderCpu > 0) {
    lines.push(
      `sizing: one forwarder process indexes about ${(1 / forwarderCpu).toFixed(0)} documents per CPU second (decode, transform, bulk, gzip).`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-bench-'));
  const pki = makePki(dir);
  const requests = agentRequests(40);
  const seconds = args.smoke ? 2 : 10;
  const results: ScenarioResult[] = [];
  const wanted = (name: string): boolean => args.only === null || args.only.includes(name);
  const common = { dir, pki, requests, seconds, connections: 16 };
  if (wanted('intake')) results.push(await intakeScenario(common));
  if (wanted('workers')) results.push(await intakeWorkersScenario(common));
  if (wanted('otlp')) results.push(await otlpIntakeScenario(common));
  const totalRequests = args.smoke ? 40 : 3000;
  const idleSeconds = args.smoke ? 3 : 60;
  const settleSeconds = args.smoke ? 1 : 30;
  if (wanted('e2e'))
    results.push(
      await endToEndScenario({ ...common, totalRequests, forwarders: 1, idleSeconds, settleSeconds, profile: true }),
    );
  if (wanted('e2e2')) results.push(await endToEndScenario({ ...common, totalRequests, forwarders: 2, idleSeconds: 0 }));
  if (wanted('overload'))
    results.push(
      await overloadScenario({
        ...common,
        seconds: args.smoke ? 3 : 30,
        highWaterBytes: (args.smoke ? 2 : 32) * 1024 * 1024,
      }),
    );
  if (wanted('transform')) results.push(await transformScenario());
  // Not in the smoke run unless named: it starts a Redis Cluster and seven processes.
  if (args.smoke ? args.only?.includes('scale') === true : wanted('scale'))
    results.push(await scaleScenario({ ...common, totalRequests }));
  for (const r of results) {
    progress(
      `${r.scenario}: ${r.metric} ours ${r.ours.toFixed(0)} baseline ${r.baseline?.toFixed(0) ?? '-'} ratio ${r.ratio?.toFixed(2) ?? '-'} (${r.goal}: ${r.met ? 'met' : 'not met'})`,
    );
  }
  const speed = machineSpeed(results);
  const analysis: Analysis = {
    speed: machineSpeedSection(
      speed,
      results.flatMap((r) => r.goals ?? []),
    ),
    unmet: goalsNotMet(results, speed),
  };
  // The profiled pass is in the report's sections already; the last line stays a summary of the run.
  const printed = results.map(({ profile, ...r }) => ({ ...r, profiled: profile !== undefined }));
  process.stdout.write(`${JSON.stringify({ results: printed, analysis })}\n`);
  if (!args.smoke) {
    const docs = args.out ?? path.join(repoRoot, 'docs');
    writeReport(
      results,
      `npm run bench${args.only ? ` -- --only ${args.only.join(',')}` : ''}`,
      [...notes, ...sizing(results, requests)],
      analysis,
      docs,
    );
    progress(`wrote ${path.join(docs, 'benchmarks.md')}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
