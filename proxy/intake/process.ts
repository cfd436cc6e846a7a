import { once } from 'node:events';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { asError, type ErrorCode, SidecarError } from '../../core/errors';
import type { BodyEncoding } from '../../queue/contract';
import { decodeBody, type StreamEncoding } from './decode';
import type { IntakeDialect } from './line-check';
import { type LineSink, LineSplitter } from './lines';
import { BudgetError, type MemoryLease } from './memory-budget';
import { IntakeLineScanner, type LineInspector } from './scan';

/**
 * processIntakeStream: one intake request body in, APM Server's verdict and the job payload out. Reads the
 * body as it arrives (decompress -> split -> judge each line), never buffering more than the compressed body
 * and one partial line. Bad input becomes errors in the outcome; it rejects only when the body stream itself
 * fails (the client went away).
 */

export interface IntakeLimits {
  readonly maxEventSize: number;
  readonly maxRequestSize: number;
}
export interface IntakeLineError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly document?: string;
}
export interface IntakePayload {
  readonly encoding: BodyEncoding;
  readonly body: Buffer;
  readonly rawBytes: number;
  readonly events: number;
}
export interface IntakeOutcome {
  /** Events accepted (metadata not counted). */
  readonly accepted: number;
  /** Every error in order (the response lists at most 5; errors after the 5th carry no document). */
  readonly errors: readonly IntakeLineError[];
  /** Null when there is nothing to enqueue. */
  readonly payload: IntakePayload | null;
}

/**
 * Paces a stream's events (the anonymous rate limit): told how many events are accepted so far (and whether the
 * stream ended), it resolves to how many of them may stay accepted; fewer stops the stream with `error`.
 */
export interface EventPacer {
  admit(accepted: number, final: boolean): Promise<number>;
  readonly error: SidecarError;
}

/** How a route reads its stream: its event types (v2, RUM v2, RUM v3), extra line rules, pacing. */
export interface StreamOptions {
  readonly dialect?: IntakeDialect;
  readonly inspect?: LineInspector;
  readonly pacer?: EventPacer;
  /**
   * server.max_inflight_bytes (memory-budget.ts): every received byte and each line while it is judged are
   * reserved in it; the caller releases it once the job is queued. The stream rejects with
   * SIDECAR_ERR_OVERLOADED when the budget is spent (nothing of the request is then queued).
   */
  readonly lease?: MemoryLease;
  /** The body's Content-Length when the client declared one (a small declared body is inflated whole). */
  readonly declaredLength?: number;
}

/**
 * The body's chunks, each reserved in the lease first: every received byte is kept until the job is queued. A
 * compressed body is refused as too large as soon as queueing what arrived could never fit in the budget.
 */
async function* reserving(
  source: AsyncIterable<unknown>,
  lease: MemoryLease,
  state: { readonly encoding: StreamEncoding | null },
): AsyncGenerator<unknown, void, undefined> {
  let received = 0;
  for await (const chunk of source) {
    const bytes =
      chunk instanceof Uint8Array ? chunk.byteLength : typeof chunk === 'string' ? Buffer.byteLength(chunk) : 0;
    lease.reserve(bytes);
    received += bytes;
    if (state.encoding === 'gzip' || state.encoding === 'deflate') lease.assertQueueable(received);
    yield chunk;
  }
}

interface ScanResult {
  readonly scanner: IntakeLineScanner;
  readonly received: readonly Buffer[];
  readonly encoding: StreamEncoding | null;
  readonly rawBytes: number;
}

/** The pacer's verdict after a chunk: false when it stopped the stream. */
async function paced(scanner: IntakeLineScanner, pacer: EventPacer | undefined, final: boolean): Promise<boolean> {
  if (pacer === undefined || scanner.stopped) return true;
  const admitted = await pacer.admit(scanner.accepted, final);
  if (admitted >= scanner.accepted) return true;
  scanner.keepFirst(admitted);
  scanner.streamFailed(pacer.error);
  return false;
}

/** Follows the lease to `now` bytes of partial line from `before`; returns `now`. */
function reserveCarry(lease: MemoryLease, before: number, now: number): number {
  if (now > before) lease.reserve(now - before);
  else if (now < before) lease.free(before - now);
  return now;
}

async function scanStream(
  body: Readable,
  contentEncoding: string | undefined,
  limits: IntakeLimits,
  options: StreamOptions,
): Promise<ScanResult> {
  const scanner = new IntakeLineScanner(options.dialect, options.inspect, options.lease);
  const splitter = new LineSplitter(limits.maxEventSize, scanner);
  const received: Buffer[] = [];
  const state: { encoding: StreamEncoding | null } = { encoding: null };
  let rawBytes = 0;
  let carried = 0;
  // destroyOnReturn false: stopping early (bad metadata) must leave the socket to answer on.
  const iterator = body.iterator({ destroyOnReturn: false });
  const source = options.lease === undefined ? iterator : reserving(iterator, options.lease, state);
  try {
    for await (const chunk of decodeBody(
      source,
      contentEncoding,
      limits.maxRequestSize,
      received,
      state,
      options.declaredLength,
    )) {
      rawBytes += chunk.length;
      const skipped = splitter.push(chunk);
      // A plain body keeps what it received for the job, but not the middle of a line refused as too large: a
      // body of 10 MB lines then holds about max_event_size per line, not 10 MB.
      if (skipped && state.encoding === 'plain' && received[received.length - 1] === chunk) {
        received.pop();
        options.lease?.discard(chunk.length);
      }
      // Decompressed, the unfinished line is held besides the received bytes: up to max_event_size.
      if (options.lease !== undefined && state.encoding !== 'plain')
        carried = reserveCarry(options.lease, carried, splitter.carriedBytes);
      if (scanner.stopped || !(await paced(scanner, options.pacer, false))) break;
    }
    if (!scanner.stopped) {
      splitter.end();
      await paced(scanner, options.pacer, true);
    }
  } catch (err) {
    // Shedding (the global memory budget) fails the whole request: nothing of it is queued, the agent retries it.
    if (!(err instanceof SidecarError) || err instanceof BudgetError) throw err;
    scanner.streamFailed(err);
  }
  return { scanner, received, encoding: state.encoding, rawBytes };
}

/**
 * One request in at most two passes over its bytes. Pass 1 (scanStream) decodes, splits and judges every line
 * while holding only the bytes as received. Pass 2 (rebuildAccepted) runs only when some line was rejected or
 * rewritten: it decodes the received bytes again to write the accepted lines, because keeping pass 1's decoded
 * lines would hold the decompressed body (up to max_request_size) where the compressed one suffices.
 */
export async function processIntakeStream(
  body: Readable,
  contentEncoding: string | undefined,
  limits: IntakeLimits,
  options: StreamOptions = {},
): Promise<IntakeOutcome> {
  const scan = await scanStream(body, contentEncoding, limits, options);
  const { scanner } = scan;
  const payload =
    scanner.metadataValid && scanner.accepted > 0
      ? await buildPayload(scan, contentEncoding, limits, options.lease)
      : null;
  return { accepted: scanner.accepted, errors: scanner.errors, payload };
}

async function buildPayload(
  scan: ScanResult,
  contentEncoding: string | undefined,
  limits: IntakeLimits,
  lease: MemoryLease | undefined,
): Promise<IntakePayload> {
  const { scanner, received, encoding } = scan;
  if (scanner.errors.length === 0 && scanner.rewritten.size === 0) {
    // Every line valid: the agent's own compressed bytes are the payload (no recompression), a plain body gzipped.
    const body = Buffer.concat(received);
    const events = scanner.accepted;
    if (encoding === 'gzip' || encoding === 'deflate') return { encoding, body, rawBytes: scan.rawBytes, events };
    return { encoding: 'gzip', body: zlib.gzipSync(body, { level: 1 }), rawBytes: body.length, events };
  }
  return rebuildAccepted(received, contentEncoding, limits, scanner, lease);
}

/**
 * Some lines were rejected: decode the received bytes once more (same decoder, same splitter, so the same
 * line numbers) and keep the metadata line and the accepted events, compressed as they are kept: only the
 * compressed rebuild is held (and reserved in the budget), never the decompressed body, so a large partly valid
 * request gets APM Server's answer (400 with the accepted count, its accepted events queued) instead of being
 * refused as too large for memory. Costs CPU only for partly invalid requests.
 */
async function rebuildAccepted(
  received: readonly Buffer[],
  contentEncoding: string | undefined,
  limits: IntakeLimits,
  scanner: IntakeLineScanner,
  lease: MemoryLease | undefined,
): Promise<IntakePayload> {
  const compressed: Buffer[] = [];
  const gzip = zlib.createGzip({ level: 1 });
  let failure: Error | undefined;
  gzip.on('data', (chunk: Buffer) => {
    try {
      lease?.reserve(chunk.length);
      compressed.push(chunk);
    } catch (err) {
      failure ??= asError(err);
    }
  });
  const finished = once(gzip, 'end');
  let events = 0;
  let rawBytes = 0;
  const newline = Buffer.from('\n');
  const sink: LineSink = {
    line(line, ordinal) {
      // The metadata line and the accepted events, in order: `events` of them are written so far.
      if (ordinal > 0 && ordinal !== scanner.acceptedOrdinals[events]) return;
      const replacement = scanner.rewritten.get(ordinal);
      const kept = replacement === undefined ? Buffer.from(line) : Buffer.from(replacement, 'utf8');
      gzip.write(kept);
      gzip.write(newline);
      rawBytes += kept.length + 1;
      if (ordinal > 0) events++;
    },
    tooLarge() {
      // rejected in the first pass too
    },
  };
  const splitter = new LineSplitter(limits.maxEventSize, sink);
  const replay = Readable.from(received);
  try {
    for await (const chunk of decodeBody(replay, contentEncoding, limits.maxRequestSize, [], { encoding: null })) {
      splitter.push(chunk);
      if (failure !== undefined) throw failure;
      // The compressor takes what was kept before more is decoded: its input buffer stays small.
      if (gzip.writableNeedDrain) await once(gzip, 'drain');
    }
    splitter.end();
  } catch (err) {
    // The first pass met the same error at the same byte: everything before it is already kept.
    if (!(err instanceof SidecarError) || err instanceof BudgetError) {
      gzip.destroy();
      throw err;
    }
  }
  gzip.end();
  await finished;
  if (failure !== undefined) throw failure;
  return { encoding: 'gzip', body: Buffer.concat(compressed), rawBytes, events };
}
