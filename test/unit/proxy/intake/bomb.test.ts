import zlib from 'node:zlib';

import { metadataLine, run, spanLine } from './helpers';

/**
 * Real gzip bombs of 1 GiB decompressed, built cheaply as 1024 gzip members of 1 MiB each (a valid gzip
 * stream: decompressors read members back to back). Decompression must stop at maxRequestSize.
 */
const mebibyte = 1024 * 1024;
const limits = { maxEventSize: 307200, maxRequestSize: 8 * mebibyte };

function bomb(firstLine: string, megabyte: Buffer): Buffer {
  const member = zlib.gzipSync(megabyte, { level: 9 });
  return Buffer.concat([zlib.gzipSync(Buffer.from(`${firstLine}\n`)), ...Array.from({ length: 1024 }, () => member)]);
}

function heapGrowthBound<T>(fn: () => Promise<T>): Promise<{ result: T; grewBy: number }> {
  const before = process.memoryUsage().heapUsed;
  return fn().then((result) => ({ result, grewBy: process.memoryUsage().heapUsed - before }));
}

describe('gzip bombs', () => {
  test('1 GiB of zeros without a newline: one too-large line, then request too large', async () => {
    const body = bomb(metadataLine, Buffer.alloc(mebibyte));
    expect(body.length).toBeLessThan(2 * mebibyte);
    const { result: outcome, grewBy } = await heapGrowthBound(() => run(body, 'gzip', limits));
    expect(outcome.accepted).toBe(0);
    expect(outcome.errors.map((e) => e.code)).toEqual(['SIDECAR_ERR_EVENT_TOO_LARGE', 'SIDECAR_ERR_REQUEST_TOO_LARGE']);
    expect(outcome.payload).toBeNull();
    expect(grewBy).toBeLessThan(256 * mebibyte);
  });

  test('1 GiB of zero lines: every line an error, stops at the limit', async () => {
    const zeros = Buffer.alloc(mebibyte, 0x30);
    for (let i = 99; i < zeros.length; i += 100) zeros[i] = 0x0a;
    const outcome = await run(bomb(metadataLine, zeros), 'gzip', limits);
    expect(outcome.accepted).toBe(0);
    expect(outcome.errors[outcome.errors.length - 1]?.code).toBe('SIDECAR_ERR_REQUEST_TOO_LARGE');
    expect(outcome.errors.length).toBeLessThanOrEqual(limits.maxRequestSize / 100 + 2);
  });

  test('1 GiB of valid span lines: accepted up to the limit, payload bounded by it', async () => {
    const line = `${spanLine('a')}\n`;
    const lines = Buffer.from(line.repeat(Math.floor(mebibyte / line.length)));
    const outcome = await run(bomb(metadataLine, lines), 'gzip', limits);
    expect(outcome.errors.map((e) => e.code)).toEqual(['SIDECAR_ERR_REQUEST_TOO_LARGE']);
    expect(outcome.accepted).toBeGreaterThan(0);
    expect(outcome.payload?.events).toBe(outcome.accepted);
    expect(outcome.payload?.rawBytes).toBeLessThanOrEqual(limits.maxRequestSize);
  });

  test('a plain body over the limit stops the same way', async () => {
    const line = `${spanLine('a')}\n`;
    const chunk = Buffer.from(line.repeat(1000));
    const chunks = [
      Buffer.from(`${metadataLine}\n`),
      ...Array.from({ length: Math.ceil((2 * mebibyte) / chunk.length) }, () => chunk),
    ];
    const outcome = await run(chunks, undefined, { maxEventSize: 307200, maxRequestSize: mebibyte });
    expect(outcome.errors.map((e) => e.code)).toEqual(['SIDECAR_ERR_REQUEST_TOO_LARGE']);
    expect(outcome.payload?.rawBytes).toBeLessThanOrEqual(mebibyte);
  });
});
