import zlib from 'node:zlib';

import type { JSONSchemaType } from 'ajv';

import { InternalError } from '../core/errors';
import { isRecord, schemaParser } from '../core/parse';
import type { OtlpFormat, OtlpSignal } from './otlp/model';

/**
 * The one contract between proxy and forwarder: one BullMQ job per accepted intake request.
 * Both sides import this module; neither imports the other.
 */

export const intakeJobName = 'intake';
/** Version 2 added `otlp` (and the optional `rum`); version 1 jobs (intake v2 only) still decode. */
export const jobSchemaVersion = 2;
const readableVersions: ReadonlySet<unknown> = new Set([1, 2]);

/** Who sent the request. Never the credential itself: the token's position in the list, or the API key id. */
export type Identity =
  | { readonly kind: 'secret_token'; readonly id: string }
  | { readonly kind: 'api_key'; readonly id: string }
  | { readonly kind: 'anonymous' };

export type BodyEncoding = 'gzip' | 'deflate';

/** What an OTLP job's body is: the export request of one signal, as the client encoded it. */
export interface OtlpJobFormat {
  readonly signal: OtlpSignal;
  readonly format: OtlpFormat;
}

export interface IntakeJobData {
  readonly v: 1 | typeof jobSchemaVersion;
  /** Random UUID given by the proxy; also the BullMQ job id, so re-adding the same request is a no-op. */
  readonly requestId: string;
  /** When the proxy started receiving the request, ms since the epoch. */
  readonly receivedAt: number;
  readonly identity: Identity;
  readonly client: { readonly ip: string; readonly userAgent: string | null };
  /**
   * The validated ndjson, compressed (base64 in the JSON job). Decompressed, its first line is the metadata
   * line and every other non-empty line is an event the proxy accepted; nothing else. When every line of the
   * request was valid this is the agent's own compressed body, byte for byte.
   */
  readonly encoding: BodyEncoding;
  readonly body: string;
  /** Events accepted (non-empty lines after the metadata line). */
  readonly events: number;
  /** Decompressed size of body in bytes. */
  readonly rawBytes: number;
  /**
   * Set for an OTLP request (since version 2): then body is the OTLP export request (protobuf or OTLP/JSON),
   * compressed, and `events` counts its spans, metric data points or log records.
   */
  readonly otlp?: OtlpJobFormat;
  /**
   * Set only for jobs from the RUM routes: the intake version (v3 is the minified format) and the socket peer
   * (source.ip/port); client.ip is then the browser as trusted proxies name it.
   */
  readonly rum?: RumJobInfo;
}

export interface RumJobInfo {
  readonly version: 'v2' | 'v3';
  readonly source: { readonly ip: string; readonly port: number | null };
}

export class JobContractError extends InternalError {
  constructor(message: string) {
    super('SIDECAR_ERR_JOB_CONTRACT', `invalid intake job: ${message}`);
  }
}

/** A required value that may be null (JSONSchemaType's `nullable` is for optional ones). */
const nullSchema = { type: 'null', nullable: true } as const;

/** The parts a dead-letter entry's context shares with the job it came from. */
export const identitySchema: JSONSchemaType<Identity> = {
  type: 'object',
  discriminator: { propertyName: 'kind' },
  oneOf: [
    {
      type: 'object',
      required: ['kind', 'id'],
      properties: { kind: { type: 'string', const: 'secret_token' }, id: { type: 'string' } },
    },
    {
      type: 'object',
      required: ['kind', 'id'],
      properties: { kind: { type: 'string', const: 'api_key' }, id: { type: 'string' } },
    },
    { type: 'object', required: ['kind'], properties: { kind: { type: 'string', const: 'anonymous' } } },
  ],
};

export const clientSchema: JSONSchemaType<IntakeJobData['client']> = {
  type: 'object',
  required: ['ip', 'userAgent'],
  properties: { ip: { type: 'string' }, userAgent: { anyOf: [{ type: 'string' }, nullSchema] } },
};

export const rumSchema: JSONSchemaType<RumJobInfo> = {
  type: 'object',
  required: ['version', 'source'],
  properties: {
    version: { type: 'string', enum: ['v2', 'v3'] },
    source: {
      type: 'object',
      required: ['ip', 'port'],
      properties: { ip: { type: 'string' }, port: { anyOf: [{ type: 'number' }, nullSchema] } },
    },
  },
};

const intakeJobSchema: JSONSchemaType<IntakeJobData> = {
  type: 'object',
  required: ['v', 'requestId', 'receivedAt', 'identity', 'client', 'encoding', 'body', 'events', 'rawBytes'],
  properties: {
    v: { type: 'integer', enum: [1, jobSchemaVersion] },
    requestId: { type: 'string', not: { const: '' } },
    receivedAt: { type: 'number' },
    identity: identitySchema,
    client: clientSchema,
    encoding: { type: 'string', enum: ['gzip', 'deflate'] },
    body: { type: 'string' },
    events: { type: 'number' },
    rawBytes: { type: 'number' },
    otlp: {
      type: 'object',
      nullable: true,
      required: ['signal', 'format'],
      properties: {
        signal: { type: 'string', enum: ['traces', 'metrics', 'logs'] },
        format: { type: 'string', enum: ['protobuf', 'json'] },
      },
    },
    rum: { ...rumSchema, nullable: true },
  },
};

const parseJob = schemaParser(intakeJobSchema, (problem) => new JobContractError(problem));

/** Parses job data read back from Redis into the typed contract, or throws JobContractError naming the path. */
export function parseIntakeJobData(value: unknown): IntakeJobData {
  if (isRecord(value) && !readableVersions.has(value.v))
    throw new JobContractError(
      `unsupported schema version ${String(value.v)} (this build reads 1 to ${jobSchemaVersion})`,
    );
  return parseJob(value);
}

/** Compresses validated ndjson for a job (used when the agent's own body cannot be stored as it is). */
export function compressNdjson(ndjson: Buffer): { encoding: BodyEncoding; body: string } {
  return { encoding: 'gzip', body: zlib.gzipSync(ndjson, { level: 1 }).toString('base64') };
}

export interface DecodedJob {
  /** The metadata line, unparsed. */
  readonly metadata: string;
  /** Accepted event lines in order; `index` is the line's position after the metadata line (0-based), stable across redeliveries. */
  readonly events: ReadonlyArray<{ readonly index: number; readonly line: string }>;
}

/** A job's body, decompressed. `maxBytes` bounds decompression (the proxy already enforced it). */
export function decompressJobBody(data: IntakeJobData, maxBytes: number): Buffer {
  const compressed = Buffer.from(data.body, 'base64');
  const options = { maxOutputLength: Math.max(maxBytes, 1) };
  return data.encoding === 'gzip' ? zlib.gunzipSync(compressed, options) : zlib.inflateSync(compressed, options);
}

/** Decompresses and splits a job's body. `maxBytes` bounds decompression (the proxy already enforced it). */
export function decodeJobBody(data: IntakeJobData, maxBytes: number): DecodedJob {
  const raw = decompressJobBody(data, maxBytes);
  const lines = raw.toString('utf8').split('\n');
  const metadata = lines[0] ?? '';
  const events: Array<{ index: number; line: string }> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line !== undefined && line.trim() !== '') events.push({ index: i - 1, line });
  }
  return { metadata, events };
}
