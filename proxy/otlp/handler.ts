import { SidecarError } from '../../core/errors';
import {
  type BodyEncoding,
  compressNdjson,
  type Identity,
  type IntakeJobData,
  jobSchemaVersion,
} from '../../queue/contract';
import { decodeOtlpRequest, OtlpDecodeError } from '../../queue/otlp/decode';
import { countItems, type OtlpCounts, type OtlpFormat, type OtlpSignal } from '../../queue/otlp/model';
import { answerWith, type HandledResponse } from '../answer';
import { decodeBody, type StreamEncoding } from '../intake/decode';
import type { IntakeDeps } from '../intake/handler';
import { budgetLease, type MemoryLease } from '../intake/memory-budget';
import type { ProxyRequest, RouteHandler } from '../routes';
import { otlpFormatOf, renderOtlpSuccess } from './response';

/** What holding and decoding one decompressed byte costs, for server.max_inflight_bytes. */
const decodeOverhead = 3;

export type OtlpDeps = Omit<IntakeDeps, 'limits'> & { readonly limits: { readonly maxRequestSize: number } };

export interface OtlpBody {
  /** Decompressed. */
  readonly raw: Buffer;
  /** As received (compressed or not). */
  readonly received: Buffer;
  readonly encoding: StreamEncoding | null;
}

/** The whole body, decompressed (gzip/deflate by header or sniffed, as intake v2), bounded by max_request_size. */
async function readOtlpBody(
  request: ProxyRequest,
  maxRequestSize: number,
  lease: MemoryLease | undefined,
): Promise<OtlpBody> {
  const received: Buffer[] = [];
  const state: { encoding: StreamEncoding | null } = { encoding: null };
  const chunks: Buffer[] = [];
  for await (const chunk of decodeBody(
    request.body,
    request.headers['content-encoding'],
    maxRequestSize,
    received,
    state,
  )) {
    // The decoded request (protobuf objects) costs a few times the bytes it came from.
    lease?.reserve(chunk.length * decodeOverhead);
    chunks.push(chunk);
  }
  return { raw: Buffer.concat(chunks), received: Buffer.concat(received), encoding: state.encoding };
}

/** The job body: the client's own compressed bytes when it compressed, else gzipped here. */
function storedBody(body: OtlpBody): { encoding: BodyEncoding; body: string } {
  if (body.encoding === 'gzip' || body.encoding === 'deflate')
    return { encoding: body.encoding, body: body.received.toString('base64') };
  return compressNdjson(body.raw);
}

/**
 * POST /v1/traces, /v1/metrics, /v1/logs (OTLP/HTTP, protobuf or JSON), once the route table checked the credential:
 * method and content type; backpressure before a byte of the body is read; then the whole body is decoded (one
 * that does not decode is a 400, never queued), queued as one job, and answered 200 once Redis acknowledged it.
 */
export function otlpHandler(signal: OtlpSignal, deps: OtlpDeps): RouteHandler {
  return async (request: ProxyRequest, identity: Identity): Promise<HandledResponse> => {
    if (request.method !== 'POST') throw new SidecarError('SIDECAR_ERR_METHOD_NOT_ALLOWED');
    const format = otlpFormatOf(request.headers['content-type']);
    if (format === undefined) throw new SidecarError('SIDECAR_ERR_OTLP_MEDIA_TYPE');
    await deps.backpressure.admit();
    const lease = budgetLease(deps.budget);
    try {
      const body = await readOtlpBody(request, deps.limits.maxRequestSize, lease);
      const userAgent = request.headers['user-agent'];
      const counts = await acceptOtlp(
        deps,
        { signal, format },
        body,
        { id: request.id, receivedAt: request.receivedAt, clientIp: request.clientIp, userAgent: userAgent ?? null },
        identity,
      );
      return answerWith('exported', renderOtlpSuccess(signal, format, counts.rejected));
    } finally {
      lease?.release();
    }
  };
}

/** Who sent an OTLP request, as its job records it. */
export interface OtlpSender {
  readonly id: string;
  readonly receivedAt: number;
  readonly clientIp: string;
  readonly userAgent: string | null;
}

/**
 * The step both transports share (OTLP/HTTP and gRPC): decode the body (a 400 / InvalidArgument when it does
 * not), queue it as one job when it holds anything to index, and count the items. Resolves once Redis has it.
 */
export async function acceptOtlp(
  deps: OtlpDeps,
  otlp: { signal: OtlpSignal; format: OtlpFormat },
  body: OtlpBody,
  sender: OtlpSender,
  identity: Identity,
): Promise<OtlpCounts> {
  let counts: OtlpCounts;
  try {
    counts = countItems(decodeOtlpRequest(otlp.signal, otlp.format, body.raw));
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    deps.metrics.events.inc({ result: 'otlp_invalid' });
    throw new SidecarError('SIDECAR_ERR_OTLP_INVALID', `failed to unmarshal request body: ${err.message}`, {
      cause: err,
    });
  }
  if (counts.items > 0) {
    try {
      await deps.backpressure.assertDurable();
      await deps.enqueuer.enqueue(jobData(sender, identity, otlp, body, counts.items));
    } catch (err) {
      deps.metrics.events.inc({ result: 'queue_unavailable' }, counts.items);
      throw err;
    }
    deps.metrics.events.inc({ result: 'accepted' }, counts.items);
  }
  if (counts.rejected > 0) deps.metrics.events.inc({ result: 'otlp_unsupported' }, counts.rejected);
  return counts;
}

function jobData(
  sender: OtlpSender,
  identity: Identity,
  otlp: { signal: OtlpSignal; format: OtlpFormat },
  body: OtlpBody,
  items: number,
): IntakeJobData {
  return {
    v: jobSchemaVersion,
    requestId: sender.id,
    receivedAt: sender.receivedAt,
    identity,
    client: { ip: sender.clientIp, userAgent: sender.userAgent },
    ...storedBody(body),
    events: items,
    rawBytes: body.raw.length,
    otlp,
  };
}
