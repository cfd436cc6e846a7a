import type { IntakeJobData } from '../../queue/contract';
import { keepRawIntegers } from './big-integers';
import type { JobState } from './common';
import { agentName, jobState, serviceName } from './common';
import { digitRunFlags } from './digit-runs';
import { transformError } from './error';
import type { Fragments } from './fragments';
import { unindexableReason } from './hostile';
import { isRecord, type JsonObject } from './json';
import { transformLog } from './log';
import { parseMetadata } from './metadata';
import { transformMetricset } from './metricset';
import { appLogsStream, type DataStream, dataStreamName, errorsStream, tracesStream } from './routing';
import { rumRequestFields } from './rum/request-fields';
import { transformSpan } from './span';
import { transformTransaction } from './transaction';

/**
 * The intake v2 event -> APM document transform: pure (no I/O), never throws. Documents are shaped as APM Server
 * 8.x/9.x indexes them, after its ingest pipelines (see docs/compatibility.md for every known difference).
 */

export interface TransformContext {
  readonly receivedAt: number;
  readonly client: IntakeJobData['client'];
  readonly identity: IntakeJobData['identity'];
  /** RUM jobs: the documents get user_agent, client and source from the request (as APM Server's RUM intake). */
  readonly rum?: IntakeJobData['rum'];
  /** data_streams.namespace */
  readonly namespace: string;
  /** observer.* on every document; type is always "apm-sidecar". */
  readonly observer?: { readonly version?: string; readonly hostname?: string };
}

export interface ApmDocument {
  /** e.g. "traces-apm-default": the bulk target (create action) */
  readonly dataStream: string;
  /** the _source */
  readonly source: Record<string, unknown>;
  /** Bulk `dynamic_templates` (field -> template name), set for histogram metric samples only. */
  readonly dynamicTemplates?: Readonly<Record<string, string>>;
  /** The source holds integers beyond 2^53 as markers (big-integers.ts): serialize through restoreRawIntegers. */
  readonly rawIntegers?: boolean;
  /** The JSON of objects the source shares with its job's other documents (fragments.ts), for the serializer. */
  readonly fragments?: Fragments;
}

export type TransformResult =
  { readonly ok: true; readonly doc: ApmDocument } | { readonly ok: false; readonly reason: string };

export interface JobTransformer {
  transform(eventLine: string): TransformResult;
}

/** Field of our own recording who sent the data (apm-server#3731): never the credential, only its id. */
const identityField = 'apm_sidecar';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sharedFields(ctx: TransformContext): JsonObject {
  const observer: JsonObject = { type: 'apm-sidecar' };
  if (ctx.observer?.version !== undefined) observer.version = ctx.observer.version;
  if (ctx.observer?.hostname !== undefined) observer.hostname = ctx.observer.hostname;
  const identity: JsonObject = { kind: ctx.identity.kind };
  if (ctx.identity.kind !== 'anonymous') identity.id = ctx.identity.id;
  return { observer, [identityField]: { identity }, ...rumRequestFields(ctx.client, ctx.rum) };
}

/** The job's data_stream objects, one per name, so that each one's JSON is written once (fragments.ts). */
type JobStreams = Map<string, DataStream>;

function withDataStream(
  source: JsonObject,
  state: JobState,
  streams: JobStreams,
  stream: DataStream,
  dynamicTemplates?: Record<string, string>,
): TransformResult {
  const dataStream = dataStreamName(stream);
  let ds = streams.get(dataStream);
  if (ds === undefined) streams.set(dataStream, (ds = state.fragments.add(stream)));
  else if (ds.type !== stream.type || ds.dataset !== stream.dataset || ds.namespace !== stream.namespace) ds = stream;
  source.data_stream = ds;
  const { fragments } = state.fragments;
  const doc: ApmDocument =
    dynamicTemplates === undefined
      ? { dataStream, source, fragments }
      : { dataStream, source, dynamicTemplates, fragments };
  return { ok: true, doc };
}

function transformEvent(event: JsonObject, state: JobState, streams: JobStreams): TransformResult {
  for (const key in event) {
    const body = event[key];
    if (!isRecord(body)) return { ok: false, reason: `event "${key}" is not an object` };
    switch (key) {
      case 'transaction': {
        const source = transformTransaction(body, state);
        return withDataStream(source, state, streams, tracesStream(agentName(source), state.namespace));
      }
      case 'span': {
        const source = transformSpan(body, state);
        return withDataStream(source, state, streams, tracesStream(agentName(source), state.namespace));
      }
      case 'error':
        return withDataStream(transformError(body, state), state, streams, errorsStream(state.namespace));
      case 'log': {
        const source = transformLog(body, state);
        return withDataStream(source, state, streams, appLogsStream(serviceName(source), state.namespace));
      }
      case 'metricset': {
        const result = transformMetricset(body, state);
        if (result.doc === undefined)
          return {
            ok: false,
            reason: 'metricset with transaction fields has no known breakdown samples (APM Server drops it too)',
          };
        return withDataStream(result.doc, state, streams, result.dataStream, result.dynamicTemplates);
      }
      default:
        return { ok: false, reason: `unknown event type "${key}"` };
    }
  }
  return { ok: false, reason: 'empty event object' };
}

/**
 * JSON.parse, except that text after the first complete value is ignored: APM Server's stream decoder reads one
 * value per line and accepts such lines (one of its own intake fixtures ends in a stray character).
 */
function parseFirstValue(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    const position = /after JSON at position (\d+)/.exec(describe(error))?.[1];
    if (position === undefined) throw error;
    return JSON.parse(line.slice(0, Number(position)));
  }
}

function failing(reason: string): JobTransformer {
  return { transform: () => ({ ok: false, reason }) };
}

/** Parses the metadata line once per job; then transforms each event line. Never throws. */
export function createJobTransformer(metadataLine: string, ctx: TransformContext): JobTransformer {
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataLine);
  } catch (error) {
    return failing(`metadata line is not JSON: ${describe(error)}`);
  }
  if (!isRecord(metadata) || !isRecord(metadata.metadata)) return failing('metadata line has no "metadata" object');
  let state: JobState;
  try {
    // host.ip is the backend agent's own address; a browser's address is client.ip (rumRequestFields) instead.
    const meta = parseMetadata(metadata.metadata, ctx.rum === undefined ? ctx.client.ip : '');
    state = jobState(meta, { ...meta.shared, ...sharedFields(ctx) }, Math.trunc(ctx.receivedAt * 1000), ctx.namespace);
  } catch (error) {
    return failing(`metadata could not be mapped: ${describe(error)}`);
  }
  const streams: JobStreams = new Map();
  return {
    transform(eventLine: string): TransformResult {
      try {
        const event = parseFirstValue(eventLine);
        if (!isRecord(event)) return { ok: false, reason: 'event line is not a JSON object' };
        const flags = digitRunFlags(eventLine);
        const unindexable = unindexableReason(eventLine, event, flags);
        if (unindexable !== undefined) return { ok: false, reason: `event cannot be indexed: ${unindexable}` };
        const rawIntegers = keepRawIntegers(eventLine, event, flags);
        const result = transformEvent(event, state, streams);
        return rawIntegers && result.ok ? { ok: true, doc: { ...result.doc, rawIntegers } } : result;
      } catch (error) {
        return { ok: false, reason: `event could not be mapped: ${describe(error)}` };
      }
    },
  };
}
