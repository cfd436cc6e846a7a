import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';

import type { Logger } from '../core/log';
import {
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
import { decodeOtlpRequest } from '../queue/otlp/decode';
import type { BulkBatcher } from './batch/bulk-batcher';
import { documentId, otlpDocumentId } from './document-id';
import { declaredJobBytes, JobAdmission } from './job-admission';
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
interface TransformFailure {
  readonly origin: Origin;
  readonly reason: string;
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
}

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
    this.admission = new JobAdmission(options.maxInflightBytes ?? 0);
  }

  async process(job: Job<unknown>): Promise<JobSummary> {
    const release = await this.admission.acquire(declaredJobBytes(job.data));
    try {
      return await this.processAdmitted(job);
    } finally {
      release();
    }
  }

  private async processAdmitted(job: Job<unknown>): Promise<JobSummary> {
    const origins = this.originsOf(job);
    const documents: PreparedDocument[] = [];
    const sent: Origin[] = [];
    const failures: TransformFailure[] = [];
    const transformers = new Map<string, ReturnType<typeof createJobTransformer> | Error>();
    for (const origin of origins) {
      const transformed = this.transform(origin, transformers);
      if (transformed.ok && origin.context.rum !== undefined && this.options.rumFrames !== undefined)
        await this.options.rumFrames.process(transformed.doc.source);
      const result = this.serialize(origin, transformed);
      if (result.ok) {
        documents.push(result.document);
        // An OTLP origin has no line of its own: its dead-letter form is the _source, taken from the bulk lines.
        const event = this.transformed.has(origin) ? preparedSource(result.document) : origin.event;
        sent.push({ ...origin, dataStream: result.document.dataStream, event });
      } else {
        failures.push({ origin, reason: result.reason });
      }
    }
    const outcomes = await this.batcher.submit(documents);
    return this.record(job, sent, outcomes, failures);
  }

  /** The events of an intake job, or of a replay job, with their ids. A malformed job can never succeed. */
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
      const context = {
        receivedAt: data.receivedAt,
        client: data.client,
        identity: data.identity,
        ...(data.rum === undefined ? {} : { rum: data.rum }),
      };
      if (data.rum?.version === 'v3') {
        // Minified RUM: expanded here, so the documents and any dead-lettered line are plain intake v2.
        const expanded = expandRumV3Job(decoded);
        return expanded.events.map((e) => ({
          id: e.part === 0 ? documentId(data.requestId, e.index) : `${documentId(data.requestId, e.index)}.${e.part}`,
          jobId: data.requestId,
          lineIndex: e.index,
          dataStream: '',
          metadata: expanded.metadata,
          event: e.line,
          context,
        }));
      }
      return decoded.events.map((e) => ({
        id: documentId(data.requestId, e.index),
        jobId: data.requestId,
        lineIndex: e.index,
        dataStream: '',
        metadata: decoded.metadata,
        event: e.line,
        context,
      }));
    } catch (err) {
      this.logger.error(
        { err, jobId: job.id, jobName: job.name },
        'job cannot be read; it is moved to the failed set for inspection',
      );
      throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
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
      return {
        ok: true,
        document: prepareDocument(origin.id, result.doc.dataStream, result.doc.source, result.doc.dynamicTemplates),
      };
    } catch (err) {
      return {
        ok: false,
        reason: `document cannot be serialized: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  private transform(
    origin: Origin,
    cache: Map<string, ReturnType<typeof createJobTransformer> | Error>,
  ): TransformResult {
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
        transformer = err instanceof Error ? err : new Error(String(err));
      }
      cache.set(origin.metadata, transformer);
    }
    if (transformer instanceof Error) return { ok: false as const, reason: `metadata: ${transformer.message}` };
    try {
      return transformer.transform(origin.event);
    } catch (err) {
      return { ok: false as const, reason: err instanceof Error ? err.message : String(err) };
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
