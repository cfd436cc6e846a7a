import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';

import { asError, InternalError } from '../core/errors';
import type { Logger } from '../core/log';
import {
  type DecodedJob,
  decodeJobBody,
  decompressJobBody,
  type IntakeJobData,
  intakeJobName,
  JobContractError,
  type OtlpJobFormat,
  parseIntakeJobData,
} from '../queue/contract';
import type { DeadLetterQueue } from '../queue/dead-letter';
import { type DeadLetterEntry, parseReplayJobData, replayJobName } from '../queue/dead-letter';
import { decodeJobBodyChunks } from '../queue/job-body-chunks';
import { decodeOtlpRequest } from '../queue/otlp/decode';
import type { BulkBatcher } from './batch/bulk-batcher';
import { documentId, otlpDocumentId } from './document-id';
import { admittedJobBytes, JobAdmission } from './job-admission';
import type { JobStarts, StartVerdict } from './job-starts';
import type { ForwarderMetrics } from './metrics';
import { type DocumentOutcome, refusalMessage } from './outcomes';
import { type PreparedDocument, prepareDocument, preparedSource } from './output/sink';
import type { RumFrameProcessor } from './sourcemap/rum-frames';
import {
  type ApmDocument,
  createJobTransformer,
  sharedFields,
  type TransformContext,
  type TransformResult,
} from './transform';
import { transformOtlpRequest } from './transform/otlp';
import { isOtlpDocumentMetadata, otlpDocumentMetadata, replayOtlpDocument } from './transform/otlp/replay';
import { expandRumV3Job } from './transform/rum/v3-job';

/** Where an event came from: enough to dead-letter it with its original line and to replay it later. */
type Origin = Omit<DeadLetterEntry, 'reason' | 'status' | 'message' | 'attempts' | 'deadLetteredAt'>;

/** Intake events as origins; an event a RUM v3 line expanded into (`part` > 0) gets `<id>.<part>`. */
function intakeOrigins(
  requestId: string,
  decoded: { metadata: string; events: ReadonlyArray<{ index: number; line: string; part?: number }> },
  context: Origin['context'],
): Origin[] {
  return decoded.events.map((e) => ({
    id: e.part ? `${documentId(requestId, e.index)}.${e.part}` : documentId(requestId, e.index),
    jobId: requestId,
    lineIndex: e.index,
    dataStream: '',
    metadata: decoded.metadata,
    event: e.line,
    context,
  }));
}
interface TransformFailure {
  readonly origin: Origin;
  readonly reason: string;
}

/** Each metadata line's transformer (or why it has none), made once per job. */
type Transformers = Map<string, ReturnType<typeof createJobTransformer> | Error>;

interface PreparedChunk {
  readonly documents: PreparedDocument[];
  readonly sent: Origin[];
  readonly failures: TransformFailure[];
}

/**
 * Decompressed bytes of a job decoded and transformed at once (about 1,100 intake events): small enough that it
 * holds the event loop only briefly and its garbage stays in the young generation.
 */
const defaultChunkBytes = 512 * 1024;
/**
 * Documents handed to the batcher at once, in bytes (forwarder.ts: output.elasticsearch.flush_bytes). A
 * submission is at least a bulk, so the documents of the next one push the last one's remainder out at once
 * instead of after flush_interval.
 */
const defaultSubmitBytes = 1024 * 1024;
/**
 * Submissions of one job waiting on the batcher at once: the next is transformed while the last is being
 * written. With the one being filled, a job holds chunksInFlight + 1 submissions' documents and the event lines
 * they came from (no more bytes than the documents): that is what admission charges it.
 */
const chunksInFlight = 2;
/** Events transformed between two turns of the event loop. */
const yieldEveryEvents = 500;

/** Thrown between pieces when the worker handed the job back to the queue (shutdown): nothing more is sent. */
class JobHandedBackError extends InternalError {
  constructor() {
    super('SIDECAR_ERR_JOB_HANDED_BACK', 'job handed back to the queue');
  }
}

export interface JobSummary {
  readonly indexed: number;
  readonly duplicate: number;
  readonly deadLettered: number;
}

export interface JobProcessorOptions {
  readonly namespace: string;
  /** Bound on a job body's decompressed size (the proxy enforced it already). */
  readonly maxRequestBytes: number;
  /** Source maps, library frames and grouping rules for documents of RUM jobs. */
  readonly rumFrames?: Pick<RumFrameProcessor, 'process'>;
  /** forwarder.max_inflight_bytes: decompressed job bytes worked on at once (job-admission.ts); 0 or none: unbounded. */
  readonly maxInflightBytes?: number;
  /** The admission shared by the processors of every partition (then maxInflightBytes is its business). */
  readonly admission?: JobAdmission;
  /** Decompressed bytes of a job decoded and transformed at once (default 512 KiB). */
  readonly chunkBytes?: number;
  /** Document bytes of a job handed to the batcher at once (default 1 MiB; the forwarder: flush_bytes). */
  readonly submitBytes?: number;
  /** The unfinished starts of each job (quarantine of jobs that kill forwarders); none: not kept. */
  readonly starts?: JobStarts;
}

/** Reason of a quarantined job in the unreadable-jobs registry (and `dlq list`). */
export const quarantinedReason = 'job_quarantined';

/**
 * Turns one job into documents, hands them to the shared batcher, waits until each has its final outcome, and
 * dead-letters the refused ones. Only then does the job complete: a process that dies before leaves the job to
 * BullMQ's stalled-job recovery, and the deterministic `_id`s make the second pass harmless.
 */
export class JobProcessor {
  /** OTLP jobs are transformed as a whole request (items need their resource): their documents, by origin. */
  private readonly transformed = new WeakMap<Origin, ApmDocument>();
  private readonly admission: JobAdmission;

  constructor(
    private readonly batcher: BulkBatcher,
    private readonly deadLetters: DeadLetterQueue,
    private readonly metrics: ForwarderMetrics,
    private readonly logger: Logger,
    private readonly options: JobProcessorOptions,
  ) {
    this.admission = options.admission ?? new JobAdmission(options.maxInflightBytes ?? 0);
  }

  async process(job: Job<unknown>, signal?: AbortSignal): Promise<JobSummary> {
    const starts = this.options.starts;
    const jobId = job.id ?? '';
    const verdict = starts === undefined || jobId === '' ? undefined : await starts.verdict(jobId);
    if (verdict?.kind === 'quarantine') return this.quarantine(job, verdict);
    const alone = verdict?.kind === 'alone';
    if (alone)
      this.logger.warn(
        { jobId, unfinished: verdict.unfinished },
        'a forwarder died while it held this job: working on it alone, to learn whether it was the cause',
      );
    const release = await this.admission.acquire(admittedJobBytes(job.data, this.windowBytes), alone);
    // Handed back at shutdown is no death: the start ends at once (the pieces already sent may never settle).
    const handedBack = (): void => void starts?.end(jobId).catch(() => undefined);
    try {
      await starts?.begin(jobId, alone);
      signal?.addEventListener('abort', handedBack, { once: true });
      try {
        return await this.processAdmitted(job, signal, alone);
      } finally {
        signal?.removeEventListener('abort', handedBack);
        await starts?.end(jobId);
      }
    } finally {
      release();
    }
  }

  /**
   * A job whose processing killed two forwarders while it was alone in them: set aside whole (kept in the failed
   * set, named in the unreadable-jobs registry by the worker, replayed by `dlq replay`) instead of killing the
   * next forwarder. One entry, whatever its size: it cannot overflow queue.dead_letter.max_entries.
   */
  private async quarantine(job: Job<unknown>, verdict: Extract<StartVerdict, { kind: 'quarantine' }>): Promise<never> {
    const reason = `${quarantinedReason}: the forwarder died ${verdict.alone} times while this job was the only one in hand (${verdict.last}); fix the cause, then \`apm-sidecar dlq replay\``;
    this.logger.error({ jobId: job.id, unfinishedStarts: verdict.unfinished }, reason);
    this.metrics.jobsQuarantined.inc();
    await this.options.starts?.end(job.id ?? '');
    throw new UnrecoverableError(reason);
  }

  /** Decompressed bytes a streamed job holds at most: its pieces in hand (see processAdmitted). */
  private get windowBytes(): number {
    return (chunksInFlight + 1) * this.submitBytes * 2 + this.chunkBytes;
  }

  private get submitBytes(): number {
    return Math.max(this.options.submitBytes ?? defaultSubmitBytes, 1);
  }

  private get chunkBytes(): number {
    return Math.max(this.options.chunkBytes ?? defaultChunkBytes, 1);
  }

  /**
   * A job is worked on in pieces of about chunkBytes decompressed bytes: each piece is decoded, transformed and
   * handed to the batcher, and at most chunksInFlight pieces wait for their outcomes at once, so a job's memory
   * is bounded by the piece, not by the job, and the event loop is given back between pieces. The job completes
   * only when every piece has its outcomes (and its refused documents are dead-lettered).
   */
  private async processAdmitted(
    job: Job<unknown>,
    signal: AbortSignal | undefined,
    alone: boolean,
  ): Promise<JobSummary> {
    const totals = { indexed: 0, duplicate: 0, deadLettered: 0 };
    const add = (s: JobSummary): void => {
      totals.indexed += s.indexed;
      totals.duplicate += s.duplicate;
      totals.deadLettered += s.deadLettered;
    };
    const transformers: Transformers = new Map();
    const pending: Promise<JobSummary>[] = [];
    try {
      let piece = 0;
      let filling: PreparedChunk = { documents: [], sent: [], failures: [] };
      let fillingBytes = 0;
      const submit = async (): Promise<void> => {
        const { documents, sent, failures } = filling;
        const delivery = this.batcher.submit(documents).then((outcomes) => this.record(job, sent, outcomes, failures));
        filling = { documents: [], sent: [], failures: [] };
        fillingBytes = 0;
        // Awaited below, in order; until then a rejection must not count as unhandled.
        delivery.catch(() => undefined);
        pending.push(delivery);
        if (pending.length >= chunksInFlight) add(await (pending.shift() ?? delivery));
      };
      for await (const origins of this.originChunks(job)) {
        if (signal?.aborted === true) throw new JobHandedBackError();
        if (piece > 0) this.options.starts?.progress(job.id ?? '', piece);
        piece++;
        fillingBytes += await this.prepare(origins, transformers, filling);
        if (fillingBytes >= this.submitBytes) await submit();
        await yieldToEventLoop();
      }
      if (filling.documents.length > 0 || filling.failures.length > 0) await submit();
      // Alone, no other job's documents will join the last bulk: waiting for flush_interval would only add latency.
      if (alone) this.batcher.flush();
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) add(await next);
      return totals;
    } finally {
      // On any throw: what was handed to the batcher still runs to its outcome before the job is given up.
      await Promise.allSettled(pending);
    }
  }

  /** Transforms and serializes one piece of a job into `into`; returns the bytes of the documents it added. */
  private async prepare(origins: readonly Origin[], transformers: Transformers, into: PreparedChunk): Promise<number> {
    let bytes = 0;
    for (const [i, origin] of origins.entries()) {
      // A piece takes ~100 ms of CPU; on a busy machine that is far longer: give the event loop back within it too.
      if (i > 0 && i % yieldEveryEvents === 0) await yieldToEventLoop();
      const transformed = this.transform(origin, transformers);
      if (transformed.ok && origin.context.rum !== undefined && this.options.rumFrames !== undefined)
        await this.options.rumFrames.process(transformed.doc.source);
      const result = this.serialize(origin, transformed);
      if (result.ok) {
        into.documents.push(result.document);
        bytes += result.document.bytes;
        // An OTLP origin has no line of its own: its dead-letter form is the _source, taken from the bulk lines.
        const event = this.transformed.has(origin) ? preparedSource(result.document) : origin.event;
        into.sent.push({ ...origin, dataStream: result.document.dataStream, event });
      } else {
        into.failures.push({ origin, reason: result.reason });
      }
    }
    return bytes;
  }

  /**
   * The events of a job, piece by piece, with their ids. An intake (or RUM v2) body is inflated as a stream;
   * OTLP, RUM v3 and replay jobs are read whole (their documents need the whole request) and then cut. A job
   * that cannot be read can never succeed: UnrecoverableError, also when the body breaks off half-way.
   */
  private async *originChunks(job: Job<unknown>): AsyncGenerator<Origin[], void, undefined> {
    const streamed = this.streamedIntake(job);
    if (streamed === undefined) {
      const origins = this.originsOf(job);
      for (let from = 0; from < origins.length;) {
        let bytes = 0;
        let to = from;
        while (to < origins.length && (to === from || bytes < this.chunkBytes))
          bytes += origins[to++]?.event.length ?? 0;
        yield origins.slice(from, to);
        from = to;
      }
      return;
    }
    const { data, context } = streamed;
    const pieces = decodeJobBodyChunks(data, this.options.maxRequestBytes, this.chunkBytes);
    for (;;) {
      let next: IteratorResult<DecodedJob, void>;
      try {
        next = await pieces.next();
      } catch (err) {
        throw this.unreadable(job, err);
      }
      if (next.done === true) return;
      yield intakeOrigins(data.requestId, next.value, context);
    }
  }

  /** An intake v2 or RUM v2 job (whose body is read as a stream), with its context; undefined for the others. */
  private streamedIntake(job: Job<unknown>): { data: IntakeJobData; context: Origin['context'] } | undefined {
    if (job.name !== intakeJobName) return undefined;
    let data: IntakeJobData;
    try {
      data = parseIntakeJobData(job.data);
    } catch {
      return undefined; // originsOf reports it
    }
    if (data.otlp !== undefined || data.rum?.version === 'v3') return undefined;
    return { data, context: jobContext(data) };
  }

  private unreadable(job: Job<unknown>, err: unknown): UnrecoverableError {
    this.logger.error(
      { err, jobId: job.id, jobName: job.name },
      'job cannot be read; it is moved to the failed set for inspection',
    );
    const text = asError(err).message;
    // The failed set and the unreadable registry (`dlq list`) keep only this text: it leads with the code.
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    return new UnrecoverableError(code === undefined ? text : `${code}: ${text}`);
  }

  /** The events of a job read whole (replay, OTLP, RUM v3), with their ids. A malformed job can never succeed. */
  private originsOf(job: Job<unknown>): Origin[] {
    try {
      if (job.name === replayJobName) {
        return parseReplayJobData(job.data).entries.map(
          ({ reason: _r, status: _s, message: _m, attempts: _a, deadLetteredAt: _d, ...origin }) => origin,
        );
      }
      if (job.name !== intakeJobName) throw new JobContractError(`unknown job name ${job.name}`);
      const data = parseIntakeJobData(job.data);
      if (data.otlp !== undefined) return this.otlpOrigins(data, data.otlp);
      const decoded = decodeJobBody(data, this.options.maxRequestBytes);
      const context = jobContext(data);
      // Minified RUM: expanded here, so the documents and any dead-lettered line are plain intake v2.
      return intakeOrigins(data.requestId, data.rum?.version === 'v3' ? expandRumV3Job(decoded) : decoded, context);
    } catch (err) {
      throw this.unreadable(job, err);
    }
  }

  /**
   * An OTLP job's documents. The proxy decoded the body before queueing it, so a failure here is a job that can
   * never succeed (thrown: the job goes to the failed set). The document is serialized once, into its bulk lines;
   * its origin's `event` (the dead-letter form) is filled from those lines.
   */
  private otlpOrigins(data: IntakeJobData, otlp: OtlpJobFormat): Origin[] {
    const request = decodeOtlpRequest(otlp.signal, otlp.format, decompressJobBody(data, this.options.maxRequestBytes));
    const context = { receivedAt: data.receivedAt, client: data.client, identity: data.identity };
    const shared = sharedFields({ ...context, namespace: this.options.namespace });
    const documents = transformOtlpRequest(request, {
      requestId: data.requestId,
      shared,
      namespace: this.options.namespace,
      receivedAtUs: Math.trunc(data.receivedAt * 1000),
    });
    return documents.map(({ position, doc }, index) => {
      const origin: Origin = {
        id: otlpDocumentId(data.requestId, position),
        jobId: data.requestId,
        lineIndex: index,
        dataStream: doc.dataStream,
        metadata: otlpDocumentMetadata(doc.dynamicTemplates),
        event: '',
        context,
      };
      this.transformed.set(origin, doc);
      return origin;
    });
  }

  /**
   * The event as a bulk document, or why it cannot be one. Nothing here may throw: a throw would fail the whole
   * job, and it would fail the same way on every redelivery (a poison job).
   */
  private serialize(
    origin: Origin,
    result: TransformResult,
  ): { ok: true; document: PreparedDocument } | { ok: false; reason: string } {
    if (!result.ok) return result;
    try {
      return { ok: true, document: prepareDocument(origin.id, result.doc) };
    } catch (err) {
      return { ok: false, reason: `document cannot be serialized: ${asError(err).message}` };
    }
  }

  private transform(origin: Origin, cache: Transformers): TransformResult {
    const otlp = this.transformed.get(origin);
    if (otlp !== undefined) return { ok: true, doc: otlp };
    if (isOtlpDocumentMetadata(origin.metadata))
      return replayOtlpDocument(origin.metadata, origin.event, origin.dataStream);
    let transformer = cache.get(origin.metadata);
    if (transformer === undefined) {
      const ctx: TransformContext = { ...origin.context, namespace: this.options.namespace };
      try {
        transformer = createJobTransformer(origin.metadata, ctx);
      } catch (err) {
        transformer = asError(err);
      }
      cache.set(origin.metadata, transformer);
    }
    if (transformer instanceof Error) return { ok: false as const, reason: `metadata: ${transformer.message}` };
    try {
      return transformer.transform(origin.event);
    } catch (err) {
      return { ok: false as const, reason: asError(err).message };
    }
  }

  private async record(
    job: Job<unknown>,
    sent: Origin[],
    outcomes: DocumentOutcome[],
    failures: TransformFailure[],
  ): Promise<JobSummary> {
    const now = Date.now();
    const dead: DeadLetterEntry[] = failures.map(({ origin, reason }) => ({
      ...origin,
      reason: 'transform_error',
      status: 0,
      message: reason,
      attempts: 0,
      deadLetteredAt: now,
    }));
    let indexed = 0;
    let duplicate = 0;
    outcomes.forEach((outcome, i) => {
      const origin = sent[i];
      if (origin === undefined) return;
      if (outcome.kind === 'indexed') indexed++;
      else if (outcome.kind === 'duplicate') duplicate++;
      else
        dead.push({
          ...origin,
          reason: outcome.errorType,
          status: outcome.status,
          message: refusalMessage(outcome, origin.dataStream),
          attempts: outcome.attempts,
          deadLetteredAt: now,
        });
    });
    if (dead.length > 0) {
      // Stored before the job completes: if Redis is down this throws, and the job is retried as a whole.
      const dropped = await this.deadLetters.add(dead, now);
      this.metrics.deadLetterDropped.inc(dropped);
      if (dropped > 0)
        this.logger.error(
          { dropped },
          'dead-letter entries dropped to make room (queue.dead_letter.when_full drop_oldest) or past queue.dead_letter.max_age: acknowledged documents are gone',
        );
      this.logger.warn(
        { jobId: job.id, count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))] },
        'documents dead-lettered (see `apm-sidecar dlq list`)',
      );
    }
    this.metrics.countDocuments('indexed', indexed);
    this.metrics.countDocuments('duplicate', duplicate);
    this.metrics.countDocuments('dead_lettered', dead.length);
    return { indexed, duplicate, deadLettered: dead.length };
  }
}

function jobContext(data: IntakeJobData): Origin['context'] {
  return {
    receivedAt: data.receivedAt,
    client: data.client,
    identity: data.identity,
    ...(data.rum === undefined ? {} : { rum: data.rum }),
  };
}
