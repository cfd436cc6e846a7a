import zlib from 'node:zlib';

import { type DecodedJob, decodeJobBody, type IntakeJobData, jobSchemaVersion } from '../../../queue/contract';
import { decodeJobBodyChunks } from '../../../queue/job-body-chunks';

function job(raw: Buffer, encoding: 'gzip' | 'deflate' = 'gzip'): IntakeJobData {
  return {
    v: jobSchemaVersion,
    requestId: 'r1',
    receivedAt: 0,
    identity: { kind: 'anonymous' },
    client: { ip: '127.0.0.1', userAgent: null },
    encoding,
    body: (encoding === 'gzip' ? zlib.gzipSync(raw) : zlib.deflateSync(raw)).toString('base64'),
    events: 0,
    rawBytes: raw.length,
  };
}

async function collect(data: IntakeJobData, maxBytes: number, chunkBytes: number): Promise<DecodedJob[]> {
  const out: DecodedJob[] = [];
  for await (const piece of decodeJobBodyChunks(data, maxBytes, chunkBytes)) out.push(piece);
  return out;
}

const metadata = '{"metadata":{"service":{"name":"ünïcode-svc"}}}';
/** Lines of varied length with multi-byte characters, empty and blank lines, so pieces cut everywhere. */
function body(lines: number, trailingNewline = true): Buffer {
  const events = Array.from({ length: lines }, (_, i) =>
    i % 97 === 13
      ? ''
      : i % 101 === 7
        ? '   '
        : JSON.stringify({ transaction: { id: `${i}`, name: 'ñ€😀'.repeat(i % 50) } }),
  );
  return Buffer.from(`${[metadata, ...events].join('\n')}${trailingNewline ? '\n' : ''}`);
}

describe('decodeJobBodyChunks (a job body inflated as a stream, in pieces)', () => {
  it.each([
    ['gzip, trailing newline', body(6000), 'gzip' as const],
    ['deflate, no trailing newline', body(6000, false), 'deflate' as const],
  ])('gives the same metadata, lines and positions as decoding it whole (%s)', async (_name, raw, encoding) => {
    const data = job(raw, encoding);
    const whole = decodeJobBody(data, raw.length);
    for (const chunkBytes of [1, 4096, 300_000, raw.length * 2]) {
      const pieces = await collect(data, raw.length, chunkBytes);
      expect(pieces.every((p) => p.metadata === whole.metadata)).toBe(true);
      expect(pieces.flatMap((p) => p.events)).toEqual(whole.events);
      expect(pieces.every((p) => p.events.length > 0)).toBe(true);
    }
  });

  it('cuts a large body into pieces of about chunkBytes decompressed bytes', async () => {
    const raw = body(40_000);
    const pieces = await collect(job(raw), raw.length, 256 * 1024);
    expect(pieces.length).toBeGreaterThanOrEqual(Math.floor(raw.length / (256 * 1024)));
    for (const piece of pieces.slice(0, -1)) {
      const bytes = piece.events.reduce((n, e) => n + Buffer.byteLength(e.line) + 1, 0);
      expect(bytes).toBeGreaterThanOrEqual(200 * 1024);
      expect(bytes).toBeLessThanOrEqual(256 * 1024 + 2 * 65_536);
    }
  });

  it('reads a body that fits one piece in one go, and one whose rawBytes understates it still in pieces', async () => {
    const raw = body(3000);
    const data = job(raw);
    const one = await collect(data, raw.length, raw.length);
    expect(one).toEqual([decodeJobBody(data, raw.length)]);
    // rawBytes comes from the job: a body that inflates past the piece is cut as a stream, within maxBytes.
    const understated = await collect({ ...data, rawBytes: 10 }, raw.length, 16 * 1024);
    expect(understated.length).toBeGreaterThan(1);
    expect(understated.flatMap((p) => p.events)).toEqual(decodeJobBody(data, raw.length).events);
    await expect(collect({ ...data, rawBytes: 10 }, raw.length - 1, raw.length)).rejects.toThrow(
      /decompresses to more than/,
    );
  });

  it('yields nothing for a body with only its metadata line', async () => {
    expect(await collect(job(Buffer.from(`${metadata}\n`)), 1 << 20, 1024)).toEqual([]);
  });

  it('refuses a body that decompresses past maxBytes, and a body that breaks off', async () => {
    const raw = body(5000);
    await expect(collect(job(raw), raw.length - 1, 4096)).rejects.toThrow(/decompresses to more than/);
    const data = job(raw);
    const cut = { ...data, body: Buffer.from(data.body, 'base64').subarray(0, 2000).toString('base64') };
    await expect(collect(cut, raw.length, 4096)).rejects.toThrow(/unexpected end of file/);
  });
});
