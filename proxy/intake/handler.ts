import type { Logger } from 'pino';

import type { ErrorCode } from '../../core/errors';
import { agentResults, resultFor } from '../../core/results';
import { type Identity, type IntakeJobData, jobSchemaVersion } from '../../queue/contract';
import { acceptsJson, type HandledResponse } from '../answer';
import type { QueueDepthMonitor } from '../backpressure';
import type { ProxyMetrics } from '../metrics';
import type { ProxyRequest, RouteHandler } from '../routes';
import type { IntakeEnqueuer } from './enqueue';
import { budgetLease, enqueueOverhead, type MemoryBudget, type MemoryLease } from './memory-budget';
import {
  type IntakeLimits,
  type IntakeLineError,
  type IntakeOutcome,
  type IntakePayload,
  processIntakeStream,
  type StreamOptions,
} from './process';
import { renderIntakeResponse } from './response';

export interface IntakeDeps {
  readonly backpressure: Pick<QueueDepthMonitor, 'admit' | 'assertDurable'>;
  readonly enqueuer: Pick<IntakeEnqueuer, 'enqueue'>;
  readonly limits: IntakeLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** server.max_inflight_bytes across all requests (memory-budget.ts); none: unbounded. */
  readonly budget?: MemoryBudget;
}

/** POST /intake/v2/events, once the route table checked the credential. */
export function intakeHandler(deps: IntakeDeps): RouteHandler {
  return (request: ProxyRequest, identity: Identity): Promise<HandledResponse> =>
    serveIntakeStream(deps, request, declaredLength(request.headers['content-length']), (payload) =>
      jobData(request, identity, payload),
    );
}

/**
 * One intake stream (intake v2, RUM) in APM Server's order: method, content type; then, before a byte of the body
 * is read, backpressure; then the stream is validated as it arrives, the accepted events are queued as one job,
 * and only after Redis acknowledged it does the agent get its 202.
 */
export async function serveIntakeStream(
  deps: IntakeDeps,
  request: ProxyRequest,
  options: Omit<StreamOptions, 'lease'>,
  job: (payload: IntakePayload) => IntakeJobData,
): Promise<HandledResponse> {
  const rejection = checkRequestShape(request);
  if (rejection !== undefined) return respond(request, { accepted: 0, errors: [rejection] });
  await deps.backpressure.admit();
  const lease = budgetLease(deps.budget);
  try {
    const outcome = await processIntakeStream(request.body, request.headers['content-encoding'], deps.limits, {
      ...options,
      ...(lease === undefined ? {} : { lease }),
    });
    await queueAccepted(deps, lease, outcome, job);
    countEvents(deps.metrics, outcome);
    return respond(request, outcome);
  } finally {
    lease?.release();
  }
}

function checkRequestShape(request: ProxyRequest): IntakeLineError | undefined {
  if (request.method !== 'POST') {
    return { code: 'SIDECAR_ERR_METHOD_NOT_ALLOWED', message: agentResults.method_not_allowed.message };
  }
  // As APM Server: absent is fine, and any value containing the ndjson type (e.g. with a charset) is accepted.
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && contentType !== '' && !contentType.includes('application/x-ndjson')) {
    return {
      code: 'SIDECAR_ERR_INVALID_CONTENT_TYPE',
      message: `${agentResults.invalid_content_type.message}: '${contentType}'`,
    };
  }
  return undefined;
}

/**
 * Queues what a request had accepted, as one job, once Redis still gives the configured durability: the step the
 * intake v2 and RUM routes share. The job being sent is charged to the request's memory lease.
 */
async function queueAccepted(
  deps: IntakeDeps,
  lease: MemoryLease | undefined,
  outcome: IntakeOutcome,
  job: (payload: IntakePayload) => IntakeJobData,
): Promise<void> {
  if (outcome.payload === null) return;
  lease?.reserve(Math.ceil(outcome.payload.body.length * enqueueOverhead));
  try {
    await deps.backpressure.assertDurable();
    await deps.enqueuer.enqueue(job(outcome.payload));
  } catch (err) {
    deps.metrics.events.inc({ result: 'queue_unavailable' }, outcome.accepted);
    throw err;
  }
}

function respond(request: ProxyRequest, outcome: Pick<IntakeOutcome, 'accepted' | 'errors'>): HandledResponse {
  return renderIntakeResponse(outcome, {
    verbose: request.query.has('verbose'),
    acceptsJson: acceptsJson(request.headers.accept),
  });
}

function countEvents(metrics: ProxyMetrics, outcome: IntakeOutcome): void {
  if (outcome.accepted > 0) metrics.events.inc({ result: 'accepted' }, outcome.accepted);
  const rejected = new Map<ErrorCode, number>();
  for (const e of outcome.errors) rejected.set(e.code, (rejected.get(e.code) ?? 0) + 1);
  for (const [code, count] of rejected) metrics.events.inc({ result: resultFor(code) }, count);
}

export function jobData(
  request: ProxyRequest,
  identity: Identity,
  payload: IntakePayload,
  rum?: { readonly version: 'v2' | 'v3'; readonly clientIp: string },
): IntakeJobData {
  const userAgent = request.headers['user-agent'];
  return {
    v: jobSchemaVersion,
    requestId: request.id,
    receivedAt: request.receivedAt,
    identity,
    client: { ip: rum?.clientIp ?? request.clientIp, userAgent: userAgent ?? null },
    encoding: payload.encoding,
    body: payload.body.toString('base64'),
    events: payload.events,
    rawBytes: payload.rawBytes,
    ...(rum === undefined
      ? {}
      : { rum: { version: rum.version, source: { ip: request.clientIp, port: request.clientPort } } }),
  };
}

function declaredLength(header: string | undefined): { declaredLength?: number } {
  const n = header === undefined ? NaN : Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? { declaredLength: n } : {};
}
