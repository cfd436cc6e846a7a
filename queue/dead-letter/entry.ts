import type { JSONSchemaType } from 'ajv';

import { InternalError } from '../../core/errors';
import { schemaParser } from '../../core/parse';
import { clientSchema, identitySchema, type IntakeJobData, type RumJobInfo, rumSchema } from '../contract';

/**
 * One dead-lettered document: the original event (and its metadata line and job context, so a replay produces the
 * same document), why Elasticsearch refused it, and where it came from. Stored as JSON in Redis, so it is parsed
 * when read back.
 */
export interface DeadLetterEntry {
  /** The document's `_id`; a replay writes it with the same one. */
  readonly id: string;
  /** The BullMQ job (= intake request id) the event arrived in, and its line index there. */
  readonly jobId: string;
  readonly lineIndex: number;
  readonly dataStream: string;
  /** Short, groupable reason: Elasticsearch's error type (mapper_parsing_exception, ...) or transform_error. */
  readonly reason: string;
  /** HTTP status of the item (0 when it never reached Elasticsearch). */
  readonly status: number;
  /** Elasticsearch's full error text. */
  readonly message: string;
  readonly attempts: number;
  readonly deadLetteredAt: number;
  readonly metadata: string;
  readonly event: string;
  readonly context: {
    readonly receivedAt: number;
    readonly client: IntakeJobData['client'];
    readonly identity: IntakeJobData['identity'];
    /** RUM jobs: the intake version and socket peer (client.ip is then the browser). */
    readonly rum?: RumJobInfo;
  };
}

class DeadLetterFormatError extends InternalError {
  constructor(message: string) {
    super('SIDECAR_ERR_DEAD_LETTER_ENTRY', `invalid dead-letter entry: ${message}`);
  }
}

const entrySchema: JSONSchemaType<DeadLetterEntry> = {
  type: 'object',
  required: [
    'id',
    'jobId',
    'lineIndex',
    'dataStream',
    'reason',
    'status',
    'message',
    'attempts',
    'deadLetteredAt',
    'metadata',
    'event',
    'context',
  ],
  properties: {
    id: { type: 'string' },
    jobId: { type: 'string' },
    lineIndex: { type: 'number' },
    dataStream: { type: 'string' },
    reason: { type: 'string' },
    status: { type: 'number' },
    message: { type: 'string' },
    attempts: { type: 'number' },
    deadLetteredAt: { type: 'number' },
    metadata: { type: 'string' },
    event: { type: 'string' },
    context: {
      type: 'object',
      required: ['receivedAt', 'client', 'identity'],
      properties: {
        receivedAt: { type: 'number' },
        client: clientSchema,
        identity: identitySchema,
        rum: { ...rumSchema, nullable: true },
      },
    },
  },
};

/** Parses a value read back from Redis (or a replay job) into an entry, or throws DeadLetterFormatError. */
export const parseDeadLetterEntry = schemaParser(entrySchema, (problem) => new DeadLetterFormatError(problem));

/** The job that puts dead-lettered documents back on the intake queue, next to the proxy's intake jobs. */
export const replayJobName = 'dlq-replay';
export const replayJobVersion = 1;

export interface ReplayJobData {
  readonly v: typeof replayJobVersion;
  readonly entries: readonly DeadLetterEntry[];
}

const replayJobSchema: JSONSchemaType<ReplayJobData> = {
  type: 'object',
  required: ['v', 'entries'],
  properties: { v: { type: 'integer', const: replayJobVersion }, entries: { type: 'array', items: entrySchema } },
};

export const parseReplayJobData = schemaParser(replayJobSchema, (problem) => new DeadLetterFormatError(problem));
