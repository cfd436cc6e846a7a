import { setTimeout as delay } from 'node:timers/promises';
import zlib from 'node:zlib';

import { ChunkInflater, outputChunkSize, pauseAtBytes } from '../../../../proxy/intake/inflate';

const mebibyte = 1024 * 1024;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out);
}

describe('ChunkInflater', () => {
  test('gzip and deflate written in pieces come out whole and in order', async () => {
    const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(''));
    for (const [encoding, compressed] of [
      ['gzip', zlib.gzipSync(text)],
      ['deflate', zlib.deflateSync(text)],
    ] as const) {
      const inflater = new ChunkInflater(encoding);
      const parts: Buffer[] = [];
      for (let i = 0; i < compressed.length; i += 777)
        parts.push(await collect(inflater.write(compressed.subarray(i, i + 777))));
      parts.push(await collect(inflater.end()));
      inflater.destroy();
      expect(Buffer.concat(parts).equals(text)).toBe(true);
    }
  });

  test('a reader that stops taking output holds zlib back (bounded buffering, not the whole expansion)', async () => {
    // 64 MiB of zeros compress to ~64 KiB: one written chunk could expand to all of it at once.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * mebibyte));
    const inflater = new ChunkInflater('gzip');
    const output = inflater.write(bomb);
    const first = await output.next();
    expect(first.done).toBe(false);
    // Give zlib's thread pool half a second to run ahead while nothing is taken (without the pause it buffers
    // the whole 64 MiB by then). An upper bound, so a slow machine cannot make it fail.
    const bound = pauseAtBytes + outputChunkSize;
    const until = Date.now() + 500;
    while (Date.now() < until && inflater.bufferedBytes <= bound) await delay(10);
    expect(inflater.bufferedBytes).toBeLessThanOrEqual(bound);
    await output.return();
    inflater.destroy();
    inflater.destroy();
  });

  test('corrupt input: output before the damage, then zlib error', async () => {
    const text = Buffer.from('x'.repeat(300000));
    const gz = zlib.gzipSync(text, { level: 0 });
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 100000, 100100);
    const inflater = new ChunkInflater('gzip');
    let taken = 0;
    await expect(
      (async () => {
        for await (const chunk of inflater.write(corrupt)) taken += chunk.length;
        for await (const chunk of inflater.end()) taken += chunk.length;
      })(),
    ).rejects.toThrow();
    inflater.destroy();
    expect(taken).toBeGreaterThan(0);
  });
});
