import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

import { type IntakeLimits, type IntakeOutcome, processIntakeStream } from '../../../../proxy/intake/process';
import { ownFixture, sharedFixture } from '../../../support/fixtures';

export const intakeFixtures = sharedFixture('apm-server', 'intake-v2');
/** The real Node agent's request body, captured by scripts/capture-agent.ts. */
export const agentCapture = ownFixture('agent-nodejs', 'intake-v2-events.ndjson');
export const goldenDir = path.join(__dirname, '..', '..', '..', 'fixtures', 'responses');

export const defaultLimits: IntakeLimits = { maxEventSize: 307200, maxRequestSize: 64 * 1024 * 1024 };

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(intakeFixtures, name));
}

/** Splits a body into chunks of `size` bytes (1 = the slowest possible sender). */
export function chunked(body: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
  return chunks;
}

export function run(
  body: Buffer | readonly Buffer[],
  contentEncoding?: string,
  limits: IntakeLimits = defaultLimits,
): Promise<IntakeOutcome> {
  const chunks = Buffer.isBuffer(body) ? [body] : body;
  return processIntakeStream(Readable.from(chunks), contentEncoding, limits);
}

/** Compares a rendered body with its golden file; UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(goldenDir, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual);
  // toBe on strings prints a line diff of the two bodies when they differ.
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

export const metadataLine =
  '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}},"process":{"pid":1}}}';

export function spanLine(id: string, extra = ''): string {
  return `{"span":{"id":"${id}","trace_id":"0123456789abcdef0123456789abcdef","parent_id":"abcdef0123456789","name":"GET /","type":"db","start":1,"duration":2${extra}}}`;
}
