import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { processIntakeStream } from '../proxy/intake/process';
import { agentRequests } from './corpus';

/**
 * Question: how many events/s does the intake pipeline (gunzip -> split -> JSON.parse -> validate) handle on
 * one core, next to a bare gunzip of the same requests? Input: the Node agent trace corpus cut into 40-event
 * gzip requests, fed in 16 KiB chunks as a socket would deliver them, 8 requests in flight.
 * Run: npx tsx bench/intake-pipeline.ts [seconds]
 */

const limits = { maxEventSize: 307200, maxRequestSize: 64 * 1024 * 1024 };
const chunkSize = 16 * 1024;

function chunks(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunkSize) out.push(body.subarray(i, i + chunkSize));
  return out;
}

/** Requests in flight at once, as on a busy server (zlib works on the thread pool meanwhile). */
const concurrency = 8;

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Events per wall second and per CPU second of this process (user + system). On a shared, busy machine the
 * wall rate understates one core's capacity; the CPU rate is the one to compare. zlib runs on the libuv thread
 * pool, whose CPU time counts here too.
 */
async function measure(name: string, seconds: number, once: (i: number) => Promise<number>): Promise<Rate> {
  for (let i = 0; i < 200; i++) await once(i); // warm-up
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const deadline = start + BigInt(seconds * 1e9);
  let events = 0;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const accepted = await once(i++);
      events += accepted;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuUsed = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
  const rate = { wall: events / elapsed, cpu: events / cpuSeconds };
  console.log(
    `${name}: ${Math.round(rate.wall)} events/s wall, ${Math.round(rate.cpu)} events/CPU s ` +
      `(${i} requests in ${elapsed.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU)`,
  );
  return rate;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? '10');
  const requests = agentRequests(40).map((r) => ({ ...r, chunks: chunks(r.body) }));
  const pick = (i: number): (typeof requests)[number] => {
    const r = requests[i % requests.length];
    if (r === undefined) throw new Error('empty corpus');
    return r;
  };
  const gunzip = await measure('bare streaming gunzip', seconds, async (i) => {
    const r = pick(i);
    for await (const _ of Readable.from(r.chunks).pipe(zlib.createGunzip())) {
      // drain
    }
    return r.events;
  });
  // Reference: the irreducible work of a validating pipeline (gunzip, then JSON.parse of every line).
  await measure('gunzip + JSON.parse per line', seconds, async (i) => {
    const r = pick(i);
    const decoded: Buffer[] = [];
    for await (const chunk of Readable.from(r.chunks).pipe(zlib.createGunzip()))
      if (Buffer.isBuffer(chunk)) decoded.push(chunk);
    let parsed = 0;
    for (const line of Buffer.concat(decoded).toString('utf8').split('\n'))
      if (line !== '' && JSON.parse(line) !== null) parsed++;
    return parsed - 1;
  });
  const pipeline = await measure('processIntakeStream', seconds, async (i) => {
    const r = pick(i);
    const outcome = await processIntakeStream(Readable.from(r.chunks), 'gzip', limits);
    if (outcome.errors.length > 0) throw new Error(`corpus request rejected: ${outcome.errors[0]?.message ?? ''}`);
    return outcome.accepted;
  });
  console.log(
    `pipeline / bare gunzip: ${(pipeline.wall / gunzip.wall).toFixed(2)} wall, ${(pipeline.cpu / gunzip.cpu).toFixed(2)} CPU`,
  );
  console.log(
    JSON.stringify({
      scenario: 'intake-pipeline',
      events_per_s: Math.round(pipeline.wall),
      events_per_cpu_s: Math.round(pipeline.cpu),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
