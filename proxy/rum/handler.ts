import { SidecarError } from '../../core/errors';
import type { Identity } from '../../queue/contract';
import type { HandledResponse } from '../answer';
import type { TrustedProxies } from '../auth/client-ip';
import { checkRequestShape, countEvents, type IntakeDeps, jobData, queueAccepted, respond } from '../intake/handler';
import { rumV2, rumV3 } from '../intake/line-check';
import { budgetLease } from '../intake/memory-budget';
import { type EventPacer, processIntakeStream, type StreamOptions } from '../intake/process';
import type { BeforeAuth, ProxyRequest, RouteHandler } from '../routes';
import type { AnonymousPolicy } from './anonymous-policy';
import type { CorsPolicy } from './cors';
import type { IpRateLimiters } from './ip-rate-limiters';

export interface RumDeps extends IntakeDeps {
  readonly cors: CorsPolicy;
  /** Null when anonymous access is off: every RUM request then needs a credential (when any is configured). */
  readonly anonymous: { readonly policy: AnonymousPolicy; readonly limiters: IpRateLimiters } | null;
  readonly trustedProxies: TrustedProxies;
  readonly responseHeaders: Readonly<Record<string, string>>;
}

/** APM Server reads, and rate-limits, anonymous streams in batches of 10 events, each waiting up to 1 s. */
const eventBatch = 10;
const batchWaitMs = 1000;

function eventPacer(limiters: IpRateLimiters, ip: string): EventPacer {
  let paid = 0;
  return {
    error: new SidecarError('SIDECAR_ERR_ANONYMOUS_RATE_LIMITED'),
    async admit(accepted: number, final: boolean): Promise<number> {
      while (accepted - paid >= eventBatch || (final && accepted > paid)) {
        const n = Math.min(eventBatch, accepted - paid);
        if (!(await limiters.waitFor(ip, n, batchWaitMs))) return paid;
        paid += n;
      }
      return accepted;
    },
  };
}

/**
 * The step the route table runs before authentication on the RUM routes, in APM Server's middleware order:
 * response headers and CORS (a preflight is answered here; an origin not allowed is refused before anything else).
 */
export function rumCors(deps: Pick<RumDeps, 'cors' | 'responseHeaders'>): BeforeAuth {
  return (request) => {
    Object.assign(request.responseHeaders, deps.responseHeaders);
    const origin = request.headers.origin;
    if (request.method === 'OPTIONS') {
      return { status: 200, headers: { ...deps.cors.preflightHeaders(origin) }, body: '', result: 'preflight' };
    }
    if (!deps.cors.allows(origin)) {
      throw new SidecarError(
        'SIDECAR_ERR_ORIGIN_NOT_ALLOWED',
        `forbidden request: origin: '${origin ?? ''}' is not allowed`,
      );
    }
    if (origin !== undefined) request.responseHeaders['Access-Control-Allow-Origin'] = origin;
    return undefined;
  };
}

/**
 * POST /intake/v{2,3}/rum/events after CORS and the credential (route table): an anonymous request (no
 * Authorization header) takes the anonymous path (allow-lists, one token per request and per batch of 10 events
 * from the client IP's bucket), then the intake stream as /intake/v2/events reads it.
 */
export function rumIntakeHandler(deps: RumDeps, version: 'v2' | 'v3'): RouteHandler {
  const dialect = version === 'v2' ? rumV2 : rumV3;
  return async (request: ProxyRequest, identity: Identity): Promise<HandledResponse> => {
    const clientIp = deps.trustedProxies.clientIp(request.clientIp, request.headers);
    const anonymous = identity.kind === 'anonymous' ? deps.anonymous : null;
    if (anonymous !== null && !anonymous.limiters.allowRequest(clientIp))
      throw new SidecarError('SIDECAR_ERR_ANONYMOUS_RATE_LIMITED');
    const rejection = checkRequestShape(request);
    if (rejection !== undefined) return respond(request, { accepted: 0, errors: [rejection] });
    await deps.backpressure.admit();
    const lease = budgetLease(deps.budget);
    try {
      const shared: StreamOptions = lease === undefined ? { dialect } : { dialect, lease };
      const options: StreamOptions =
        anonymous === null
          ? shared
          : { ...shared, inspect: anonymous.policy.inspect, pacer: eventPacer(anonymous.limiters, clientIp) };
      const outcome = await processIntakeStream(
        request.body,
        request.headers['content-encoding'],
        deps.limits,
        options,
      );
      await queueAccepted(deps, lease, outcome, (payload) =>
        jobData(request, identity, payload, { version, clientIp }),
      );
      countEvents(deps.metrics, outcome);
      return respond(request, outcome);
    } finally {
      lease?.release();
    }
  };
}
