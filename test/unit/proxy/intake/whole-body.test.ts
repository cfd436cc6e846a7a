import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { type IntakeLimits, type IntakeOutcome, processIntakeStream } from '../../../../proxy/intake/process';
import { chunked, defaultLimits, metadataLine, spanLine } from './helpers';

// A small body with a Content-Length is inflated in one call; these check it decides exactly as the streaming
// inflater does (same accepted count, errors and stored payload), including where that call cannot be used.
function run(
  chunks: readonly Buffer[],
  declared: boolean,
  limits: IntakeLimits = defaultLimits,
): Promise<IntakeOutcome> {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  return processIntakeStream(Readable.from(chunks), 'gzip', limits, declared ? { declaredLength: length } : {});
}

function summary(outcome: IntakeOutcome): unknown {
  return {
    accepted: outcome.accepted,
    errors: outcome.errors.map((e) => e.message),
    body: outcome.payload?.body.toString('base64') ?? null,
    rawBytes: outcome.payload?.rawBytes ?? null,
  };
}

const spans = (n: number, extra = ''): string =>
  Array.from({ length: n }, (_, i) => spanLine(`s${i}`, extra)).join('\n');

describe('a small declared body inflated whole', () => {
  test('an agent-sized request: same outcome as streaming, in one chunk or many', async () => {
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${spans(40)}\n`));
    const streamed = summary(await run([gz], false));
    expect(streamed).toMatchObject({ accepted: 40, errors: [] });
    expect(summary(await run([gz], true))).toEqual(streamed);
    expect(summary(await run(chunked(gz, 7), true))).toEqual(streamed);
  });

  test('a body with a bad line: the same accepted lines and error', async () => {
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${spanLine('a')}\n{"span":{}}\n${spanLine('b')}\n`));
    const streamed = summary(await run([gz], false));
    expect(streamed).toMatchObject({ accepted: 2 });
    expect(summary(await run([gz], true))).toEqual(streamed);
  });

  test('a truncated gzip body: the lines before the cut are decided as streaming decides them', async () => {
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${spans(300)}\n`));
    const cut = gz.subarray(0, gz.length - 100);
    const streamed = summary(await run([cut], false));
    expect((streamed as { errors: string[] }).errors).toEqual(['data decoding error: unexpected EOF']);
    expect(summary(await run([cut], true))).toEqual(streamed);
  });

  test('inflating past max_request_size: too large, as streaming says it', async () => {
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${spans(2000)}\n`));
    const limits = { ...defaultLimits, maxRequestSize: 100_000 };
    const streamed = summary(await run([gz], false, limits));
    expect(JSON.stringify(streamed)).toContain('request body exceeded the permitted size');
    expect(summary(await run([gz], true, limits))).toEqual(streamed);
  });

  test('a small body that inflates past the one-call bound (2 MiB of spans) still streams to the same outcome', async () => {
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${spans(12_000)}\n`));
    expect(gz.length).toBeLessThan(64 * 1024);
    const streamed = summary(await run([gz], false));
    expect(streamed).toMatchObject({ accepted: 12_000, errors: [] });
    expect(summary(await run([gz], true))).toEqual(streamed);
  });
});
