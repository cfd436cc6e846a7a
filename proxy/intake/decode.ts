import zlib from 'node:zlib';

import { InternalError, SidecarError } from '../../core/errors';
import type { BodyEncoding } from '../../queue/contract';
import { ChunkInflater } from './inflate';

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

function chooseEncoding(contentEncoding: string | undefined, firstBytes: Buffer): StreamEncoding {
  if (contentEncoding === 'gzip') return 'gzip';
  if (contentEncoding === 'deflate') return 'deflate';
  if (firstBytes.length >= 2 && firstBytes[0] === 0x1f && firstBytes[1] === 0x8b) return 'gzip';
  if (firstBytes.length >= 1 && ((firstBytes[0] ?? 0) & 0x0f) === 8) return 'deflate';
  return 'plain';
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new InternalError('SIDECAR_ERR_BODY_STREAM', 'request body chunk is not bytes');
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
  declaredLength?: number,
): AsyncGenerator<Buffer, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    const head = await readHead(iterator, received);
    if (head.length === 0) return;
    const encoding = chooseEncoding(contentEncoding, Buffer.concat(head));
    state.encoding = encoding;
    let total = 0;
    const small = declaredLength !== undefined && declaredLength <= wholeBodyMaxBytes;
    const decoded =
      encoding === 'plain'
        ? passThrough(head, iterator, received)
        : small
          ? ((await inflateWhole(iterator, received, encoding, maxBytes)) ?? replayInflate(received, encoding))
          : inflate(head, iterator, received, encoding);
    for await (const chunk of decoded) {
      total += chunk.length;
      if (total > maxBytes) throw new SidecarError('SIDECAR_ERR_REQUEST_TOO_LARGE');
      yield chunk;
    }
  } finally {
    // Stop reading without destroying the body: the caller still answers on its socket.
    await iterator.return?.();
  }
}

/** The first chunks, until the two sniffing bytes are in (a 1-byte-at-a-time sender splits them). */
async function readHead(iterator: AsyncIterator<unknown>, received: Buffer[]): Promise<Buffer[]> {
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await nextChunk(iterator);
    if (next === null) break;
    received.push(next);
    head.push(next);
    headBytes += next.length;
  }
  return head;
}

async function nextChunk(iterator: AsyncIterator<unknown>): Promise<Buffer | null> {
  const result = await iterator.next();
  return result.done === true ? null : toBuffer(result.value);
}

async function* passThrough(
  head: readonly Buffer[],
  iterator: AsyncIterator<unknown>,
  received: Buffer[],
): AsyncGenerator<Buffer> {
  for (const chunk of head) yield chunk;
  for (let next = await nextChunk(iterator); next !== null; next = await nextChunk(iterator)) {
    received.push(next);
    yield next;
  }
}

/**
 * A small body whose length the client declared (Content-Length up to 64 KiB compressed, an agent-sized request)
 * is read whole and inflated in one synchronous call, output bounded to 1 MiB: about a third of the CPU of the
 * streaming inflater, whose per-chunk thread-pool round trips and generators cost more than the inflating itself
 * at this size. Only a body that inflates cleanly within that bound takes this path; anything else (corrupt,
 * truncated, larger) returns null and is decoded by the streaming inflater from the chunks already received, so
 * errors, partial acceptance and the max_request_size cut-off stay exactly as they were. Chunked bodies (the Node
 * agent streams one) always stream.
 */
const wholeBodyMaxBytes = 64 * 1024;
const wholeBodyMaxOutput = 1024 * 1024;
const sliceBytes = 64 * 1024;

async function inflateWhole(
  iterator: AsyncIterator<unknown>,
  received: Buffer[],
  encoding: BodyEncoding,
  maxBytes: number,
): Promise<Iterable<Buffer> | null> {
  for (let next = await nextChunk(iterator); next !== null; next = await nextChunk(iterator)) received.push(next);
  const compressed = received.length === 1 && received[0] !== undefined ? received[0] : Buffer.concat(received);
  // Output in 64 KiB pieces, not zlib's 16 KiB: an agent-sized body (about 19 KiB inflated) comes out as one
  // buffer, without a second round through zlib and the copy that joins the pieces (about a third of the call).
  const options = { maxOutputLength: Math.max(1, Math.min(maxBytes + 1, wholeBodyMaxOutput)), chunkSize: sliceBytes };
  let out: Buffer;
  try {
    out = encoding === 'gzip' ? zlib.gunzipSync(compressed, options) : zlib.inflateSync(compressed, options);
  } catch {
    return null;
  }
  if (out.length > maxBytes) return null;
  const slices: Buffer[] = [];
  for (let at = 0; at < out.length; at += sliceBytes) slices.push(out.subarray(at, at + sliceBytes));
  return slices;
}

/** The streaming inflater over the chunks already received (a small body that did not inflate in one call). */
async function* replayInflate(received: readonly Buffer[], encoding: BodyEncoding): AsyncGenerator<Buffer> {
  const done: AsyncIterator<unknown> = { next: () => Promise.resolve({ done: true, value: undefined }) };
  yield* inflate(received, done, [], encoding);
}

async function* inflate(
  head: readonly Buffer[],
  iterator: AsyncIterator<unknown>,
  received: Buffer[],
  encoding: BodyEncoding,
): AsyncGenerator<Buffer> {
  const inflater = new ChunkInflater(encoding);
  try {
    for (const chunk of head) yield* inflater.write(chunk);
    for (let next = await nextChunk(iterator); next !== null; next = await nextChunk(iterator)) {
      received.push(next);
      yield* inflater.write(next);
    }
    yield* inflater.end();
  } finally {
    inflater.destroy();
  }
}
