import zlib from 'node:zlib';

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

/** The `rum` part of a job (or of a dead-letter entry's context); undefined when absent. */
export function parseRumJobInfo(value: unknown): RumJobInfo | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || (value.version !== 'v2' && value.version !== 'v3'))
    throw new JobContractError('rum.version must be v2 or v3');
  const source = value.source;
  if (!isRecord(source) || typeof source.ip !== 'string') throw new JobContractError('rum.source.ip must be a string');
  const port = source.port;
  if (port !== null && typeof port !== 'number') throw new JobContractError('rum.source.port must be a number or null');
  return { version: value.version, source: { ip: source.ip, port } };
}

export class JobContractError extends Error {
  constructor(message: string) {
    super(`invalid intake job: ${message}`);
    this.name = 'JobContractError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseIdentity(value: unknown): Identity {
  if (!isRecord(value)) throw new JobContractError('identity must be an object');
  if (value.kind === 'anonymous') return { kind: 'anonymous' };
  if ((value.kind === 'secret_token' || value.kind === 'api_key') && typeof value.id === 'string') {
    return { kind: value.kind, id: value.id };
  }
  throw new JobContractError('identity.kind must be secret_token, api_key (with id) or anonymous');
}

/** Parses job data read back from Redis into the typed contract, or throws JobContractError. */
export function parseIntakeJobData(value: unknown): IntakeJobData {
  if (!isRecord(value)) throw new JobContractError('data must be an object');
  if (!readableVersions.has(value.v))
    throw new JobContractError(
      `unsupported schema version ${String(value.v)} (this build reads 1 to ${jobSchemaVersion})`,
    );
  const { requestId, receivedAt, client, encoding, body, events, rawBytes } = value;
  if (typeof requestId !== 'string' || requestId === '')
    throw new JobContractError('requestId must be a non-empty string');
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt))
    throw new JobContractError('receivedAt must be a number');
  if (!isRecord(client) || typeof client.ip !== 'string') throw new JobContractError('client.ip must be a string');
  const userAgent = client.userAgent;
  if (userAgent !== null && typeof userAgent !== 'string')
    throw new JobContractError('client.userAgent must be a string or null');
  if (encoding !== 'gzip' && encoding !== 'deflate') throw new JobContractError('encoding must be gzip or deflate');
  if (typeof body !== 'string') throw new JobContractError('body must be a base64 string');
  if (typeof events !== 'number' || typeof rawBytes !== 'number')
    throw new JobContractError('events and rawBytes must be numbers');
  const rum = parseRumJobInfo(value.rum);
  return {
    ...(rum === undefined ? {} : { rum }),
    v: jobSchemaVersion,
    requestId,
    receivedAt,
    identity: parseIdentity(value.identity),
    client: { ip: client.ip, userAgent },
    encoding,
    body,
    events,
    rawBytes,
    ...(value.otlp === undefined ? {} : { otlp: parseOtlpFormat(value.otlp) }),
  };
}

const otlpSignals: ReadonlySet<unknown> = new Set(['traces', 'metrics', 'logs']);

function parseOtlpFormat(value: unknown): OtlpJobFormat {
  if (!isRecord(value)) throw new JobContractError('otlp must be an object');
  const { signal, format } = value;
  if (signal !== 'traces' && signal !== 'metrics' && signal !== 'logs')
    throw new JobContractError(`otlp.signal must be one of ${[...otlpSignals].join(', ')}`);
  if (format !== 'protobuf' && format !== 'json') throw new JobContractError('otlp.format must be protobuf or json');
  return { signal, format };
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
