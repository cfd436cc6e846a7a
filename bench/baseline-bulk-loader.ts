/**
 * The end-to-end baseline: a direct _bulk loader that writes already-made documents to Elasticsearch (the
 * stand-in), `create` with an _id, gzip bodies of ~flushBytes, `concurrency` bulks in flight. It is what a
 * hand-written loader with the official client does, with no queue, no transform and no durability.
 *
 *   tsx bench/baseline-bulk-loader.ts '{"url":...,"ca":...,"username":...,"password":...,"docs":"docs.ndjson","concurrency":4,"flushBytes":1048576}'
 * Prints {"docs":N,"seconds":S,"errors":E,"cpuSeconds":C} (its own CPU over the sending, from /proc).
 */
import fs from 'node:fs';

import { Client } from '@elastic/elasticsearch';

import { procStat } from './procstat';

interface LoaderOptions {
  url: string;
  ca: string;
  username: string;
  password: string;
  /** Lines of {"index": data stream, "id": _id, "source": {...}}. */
  docs: string;
  concurrency: number;
  flushBytes: number;
}

function bulkBodies(file: string, flushBytes: number): { bodies: string[]; docs: number } {
  const bodies: string[] = [];
  let current = '';
  let docs = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const doc = JSON.parse(line) as { index: string; id: string; source: unknown };
    current += `${JSON.stringify({ create: { _index: doc.index, _id: doc.id } })}\n${JSON.stringify(doc.source)}\n`;
    docs++;
    if (current.length >= flushBytes) {
      bodies.push(current);
      current = '';
    }
  }
  if (current !== '') bodies.push(current);
  return { bodies, docs };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoaderOptions;
  const client = new Client({
    node: options.url,
    auth: { username: options.username, password: options.password },
    tls: { ca: fs.readFileSync(options.ca, 'utf8') },
    maxRetries: 5,
  });
  const { bodies, docs } = bulkBodies(options.docs, options.flushBytes);
  let next = 0;
  let errors = 0;
  const cpuBefore = procStat(process.pid).cpuSeconds;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    for (let body = bodies[next++]; body !== undefined; body = bodies[next++]) {
      const res = await client.transport.request<{ errors?: boolean }>(
        { method: 'POST', path: '/_bulk', bulkBody: body, querystring: { filter_path: 'errors,items.*.status' } },
        { compression: true },
      );
      if (res.errors === true) errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuSeconds = procStat(process.pid).cpuSeconds - cpuBefore;
  await client.close();
  process.stdout.write(`${JSON.stringify({ docs, seconds, errors, cpuSeconds })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline-bulk-loader: ${String(err)}\n`);
  process.exitCode = 1;
});
