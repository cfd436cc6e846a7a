/**
 * How many intake events per second does the transform turn into documents on one core?
 * Input: the Node agent trace corpus (bench/corpus.ts). Each round builds one job transformer (metadata parsed once,
 * as the forwarder does per job) and transforms every event line, including JSON.parse of the line and
 * JSON.stringify of the document (the forwarder serialises each document into the bulk body).
 * Run: npx tsx bench/transform.ts   (last line: {"scenario":"transform","events_per_s":N})
 */
import { sidecarVersion } from '../core/version';
import { createJobTransformer, type TransformContext } from '../forwarder/transform';
import { corpusLines } from './corpus';

const lines = corpusLines();
const metadata = lines[0] ?? '';
const events = lines.slice(1);
const ctx: TransformContext = {
  receivedAt: Date.now(),
  client: { ip: '10.0.0.7', userAgent: 'apm-agent-nodejs/3.29.0' },
  identity: { kind: 'secret_token', id: '0' },
  namespace: 'default',
  observer: { version: sidecarVersion, hostname: 'bench' },
};

function round(): { events: number; failures: number; bytes: number } {
  const transformer = createJobTransformer(metadata, ctx);
  let failures = 0;
  let bytes = 0;
  for (const line of events) {
    const result = transformer.transform(line);
    if (result.ok) bytes += JSON.stringify(result.doc.source).length;
    else failures++;
  }
  return { events: events.length, failures, bytes };
}

const warmupUntil = Date.now() + 1500;
while (Date.now() < warmupUntil) round();

const durationMs = 5000;
const start = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
let transformed = 0;
let failures = 0;
let bytes = 0;
let elapsedMs = 0;
while (elapsedMs < durationMs) {
  const r = round();
  transformed += r.events;
  failures += r.failures;
  bytes += r.bytes;
  elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
}
const eventsPerSecond = Math.round(transformed / (elapsedMs / 1000));
const cpu = process.cpuUsage(cpuStart);
// Per CPU second as well: on a shared, busy machine wall-clock rates understate a single core's capacity.
const eventsPerCpuSecond = Math.round(transformed / ((cpu.user + cpu.system) / 1e6));
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(
  `corpus: ${events.length} events; ${transformed} transformed in ${(elapsedMs / 1000).toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU, ` +
    `${failures} failures, ${(bytes / transformed).toFixed(0)} bytes/doc: ${eventsPerSecond} events/s wall, ${eventsPerCpuSecond} events/CPU s\n`,
);
process.stdout.write(
  `${JSON.stringify({ scenario: 'transform', events_per_s: eventsPerSecond, events_per_cpu_s: eventsPerCpuSecond })}\n`,
);
