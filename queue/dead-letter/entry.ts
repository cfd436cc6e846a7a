import { type IntakeJobData, JobContractError, parseRumJobInfo, type RumJobInfo } from '../contract';

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

class DeadLetterFormatError extends Error {
  constructor(message: string) {
    super(`invalid dead-letter entry: ${message}`);
    this.name = 'DeadLetterFormatError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new DeadLetterFormatError(`${key} must be a string`);
  return value;
}

function num(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DeadLetterFormatError(`${key} must be a number`);
  return value;
}

function parseIdentity(value: unknown): DeadLetterEntry['context']['identity'] {
  if (isRecord(value) && value.kind === 'anonymous') return { kind: 'anonymous' };
  if (isRecord(value) && (value.kind === 'secret_token' || value.kind === 'api_key') && typeof value.id === 'string') {
    return { kind: value.kind, id: value.id };
  }
  throw new DeadLetterFormatError('context.identity is not an identity');
}

function parseContext(value: unknown): DeadLetterEntry['context'] {
  if (!isRecord(value)) throw new DeadLetterFormatError('context must be an object');
  const client = value.client;
  if (!isRecord(client) || typeof client.ip !== 'string')
    throw new DeadLetterFormatError('context.client.ip must be a string');
  const userAgent = client.userAgent;
  if (userAgent !== null && typeof userAgent !== 'string')
    throw new DeadLetterFormatError('context.client.userAgent must be a string or null');
  let rum: RumJobInfo | undefined;
  try {
    rum = parseRumJobInfo(value.rum);
  } catch (err) {
    throw new DeadLetterFormatError(err instanceof JobContractError ? err.message : String(err));
  }
  return {
    receivedAt: num(value, 'receivedAt'),
    client: { ip: client.ip, userAgent },
    identity: parseIdentity(value.identity),
    ...(rum === undefined ? {} : { rum }),
  };
}

/** Parses a value read back from Redis (or a replay job) into an entry, or throws DeadLetterFormatError. */
export function parseDeadLetterEntry(value: unknown): DeadLetterEntry {
  if (!isRecord(value)) throw new DeadLetterFormatError('not an object');
  return {
    id: str(value, 'id'),
    jobId: str(value, 'jobId'),
    lineIndex: num(value, 'lineIndex'),
    dataStream: str(value, 'dataStream'),
    reason: str(value, 'reason'),
    status: num(value, 'status'),
    message: str(value, 'message'),
    attempts: num(value, 'attempts'),
    deadLetteredAt: num(value, 'deadLetteredAt'),
    metadata: str(value, 'metadata'),
    event: str(value, 'event'),
    context: parseContext(value.context),
  };
}

/** The job that puts dead-lettered documents back on the intake queue, next to the proxy's intake jobs. */
export const replayJobName = 'dlq-replay';
export const replayJobVersion = 1;

export interface ReplayJobData {
  readonly v: typeof replayJobVersion;
  readonly entries: readonly DeadLetterEntry[];
}

export function parseReplayJobData(value: unknown): ReplayJobData {
  if (!isRecord(value) || value.v !== replayJobVersion || !Array.isArray(value.entries)) {
    throw new DeadLetterFormatError(`replay job data must be {v: ${replayJobVersion}, entries: [...]}`);
  }
  const entries: unknown[] = value.entries;
  return { v: replayJobVersion, entries: entries.map(parseDeadLetterEntry) };
}
