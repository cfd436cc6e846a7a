import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { SidecarError } from '../../core/errors';
import type { BodyEncoding } from '../../queue/contract';

/**
 * IntakeStreamDecoder: the request body, decompressed as it arrives. Like APM Server: Content-Encoding gzip
 * or deflate (zlib-wrapped, as Go's compress/zlib; raw deflate fails its header check), otherwise sniffed
 * from the first two bytes (gzip magic 1f 8b; a zlib header has compression method 8 in the low nibble),
 * otherwise plain. Output beyond `maxBytes` stops with SIDECAR_ERR_REQUEST_TOO_LARGE (a decompression bomb
 * is cut off after at most one zlib output chunk over the limit); corrupt data with
 * SIDECAR_ERR_INVALID_COMPRESSION worded as APM Server ("data decoding error: gzip: invalid header").
 * An error of the body stream itself (client gone) is rethrown as it is.
 */

export type StreamEncoding = BodyEncoding | 'plain';

const zlibOutputChunk = 64 * 1024;

export function chooseEncoding(contentEncoding: string | undefined, firstBytes: Buffer): StreamEncoding {
  if (contentEncoding === 'gzip') return 'gzip';
  if (contentEncoding === 'deflate') return 'deflate';
  if (firstBytes.length >= 2 && firstBytes[0] === 0x1f && firstBytes[1] === 0x8b) return 'gzip';
  if (firstBytes.length >= 1 && ((firstBytes[0] ?? 0) & 0x0f) === 8) return 'deflate';
  return 'plain';
}

/** Marks an error of the body stream so it is not mistaken for a decompression error. */
class BodyStreamError extends Error {
  constructor(readonly original: unknown) {
    super('request body stream failed');
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('request body chunk is not bytes');
}

/** Go's wording for what zlib reports (compress/gzip, compress/zlib, compress/flate). */
function describeZlibError(err: unknown, encoding: BodyEncoding): string {
  const message = err instanceof Error ? err.message : String(err);
  const family = encoding === 'gzip' ? 'gzip' : 'zlib';
  if (message.includes('incorrect header check')) return `${family}: invalid header`;
  if (message.includes('incorrect data check') || message.includes('incorrect length check')) return `${family}: invalid checksum`;
  if (message.includes('unexpected end of file')) return 'unexpected EOF';
  return 'flate: corrupt input';
}

/**
 * Yields decompressed chunks. `received` gets every body chunk as it arrives (so an entirely valid request
 * can be stored as the agent sent it), `state.encoding` the encoding once known.
 */
export async function* decodeBody(
  source: AsyncIterable<unknown>,
  contentEncoding: string | undefined,
  maxBytes: number,
  received: Buffer[],
  state: { encoding: StreamEncoding | null },
): AsyncGenerator<Buffer, void, undefined> {
  try {
    yield* decodeChunks(source, contentEncoding, maxBytes, received, state);
  } catch (err) {
    throw err instanceof BodyStreamError ? err.original : err;
  }
}

async function* decodeChunks(
  source: AsyncIterable<unknown>,
  contentEncoding: string | undefined,
  maxBytes: number,
  received: Buffer[],
  state: { encoding: StreamEncoding | null },
): AsyncGenerator<Buffer, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  // The two sniffing bytes may arrive in separate chunks (a 1-byte-at-a-time sender).
  while (headBytes < 2) {
    const next = await nextChunk(iterator);
    if (next === null) break;
    received.push(next);
    head.push(next);
    headBytes += next.length;
  }
  if (headBytes === 0) return;
  const encoding = chooseEncoding(contentEncoding, Buffer.concat(head));
  state.encoding = encoding;
  const rest = restOf(head, iterator, received);
  let total = 0;
  const output = encoding === 'plain' ? rest : inflate(rest, encoding);
  for await (const chunk of output) {
    total += chunk.length;
    if (total > maxBytes) throw new SidecarError('SIDECAR_ERR_REQUEST_TOO_LARGE');
    yield chunk;
  }
}

async function nextChunk(iterator: AsyncIterator<unknown>): Promise<Buffer | null> {
  let result: IteratorResult<unknown>;
  try {
    result = await iterator.next();
  } catch (err) {
    throw new BodyStreamError(err);
  }
  return result.done === true ? null : toBuffer(result.value);
}

async function* restOf(head: readonly Buffer[], iterator: AsyncIterator<unknown>, received: Buffer[]): AsyncGenerator<Buffer> {
  try {
    for (const chunk of head) yield chunk;
    for (;;) {
      const next = await nextChunk(iterator);
      if (next === null) return;
      received.push(next);
      yield next;
    }
  } finally {
    // Stop reading without destroying the body: the caller still answers on its socket.
    await iterator.return?.();
  }
}

async function* inflate(compressed: AsyncGenerator<Buffer>, encoding: BodyEncoding): AsyncGenerator<Buffer> {
  const options = { chunkSize: zlibOutputChunk };
  const decompressor = encoding === 'gzip' ? zlib.createGunzip(options) : zlib.createInflate(options);
  const feeding = pipeline(Readable.from(compressed, { objectMode: false }), decompressor);
  // The pipeline's failure is also the decompressor's: handled where the output is read.
  feeding.catch(() => undefined);
  try {
    for await (const chunk of decompressor) yield toBuffer(chunk);
  } catch (err) {
    if (err instanceof BodyStreamError) throw err;
    throw new SidecarError('SIDECAR_ERR_INVALID_COMPRESSION', `data decoding error: ${describeZlibError(err, encoding)}`, { cause: err });
  } finally {
    decompressor.destroy();
  }
  await feeding;
}
