import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * The throughput corpus the project makes itself from the real Node agent (npx tsx scripts/capture-agent.ts
 * corpus): 12k trace events of 4,000 HTTP transactions, gzip-compressed in the repository.
 */
export const corpusFile = path.join(__dirname, '..', 'test', 'fixtures', 'bench', 'agent-nodejs-traces.ndjson.gz');

/** Non-empty lines of an ndjson corpus, gunzipped when the file name ends in .gz. */
export function corpusLines(file = corpusFile): string[] {
  const raw = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

export interface AgentRequest {
  /** gzip body, as the Node agent sends it. */
  readonly body: Buffer;
  readonly events: number;
  /** Decompressed size. */
  readonly rawBytes: number;
}

/**
 * The corpus cut into agent-sized requests: the metadata line, then `eventsPerRequest` events, gzip
 * compressed (the Node agent streams one gzip stream per request).
 */
export function agentRequests(eventsPerRequest = 40, file = corpusFile): AgentRequest[] {
  const lines = corpusLines(file);
  const metadata = lines.find((l) => l.startsWith('{"metadata"'));
  if (metadata === undefined) throw new Error(`${file} has no metadata line`);
  const events = lines.filter((l) => !l.startsWith('{"metadata"'));
  const requests: AgentRequest[] = [];
  for (let i = 0; i < events.length; i += eventsPerRequest) {
    const chunk = events.slice(i, i + eventsPerRequest);
    const raw = Buffer.from(`${metadata}\n${chunk.join('\n')}\n`);
    requests.push({ body: zlib.gzipSync(raw), events: chunk.length, rawBytes: raw.length });
  }
  return requests;
}

/** Writes requests to a file a separate load-generator process reads (length-prefixed gzip bodies + counts). */
export function writeRequestsFile(requests: readonly AgentRequest[], file: string): void {
  fs.writeFileSync(
    file,
    JSON.stringify(requests.map((r) => ({ body: r.body.toString('base64'), events: r.events, rawBytes: r.rawBytes }))),
  );
}

export function readRequestsFile(file: string): AgentRequest[] {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: not a requests file`);
  return parsed.map((r: unknown) => {
    if (r === null || typeof r !== 'object') throw new Error(`${file}: bad entry`);
    const entry = r as { body?: unknown; events?: unknown; rawBytes?: unknown };
    if (typeof entry.body !== 'string' || typeof entry.events !== 'number' || typeof entry.rawBytes !== 'number')
      throw new Error(`${file}: bad entry`);
    return { body: Buffer.from(entry.body, 'base64'), events: entry.events, rawBytes: entry.rawBytes };
  });
}
