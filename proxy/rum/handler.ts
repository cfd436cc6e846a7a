import { SidecarError } from '../../core/errors';
import type { Identity } from '../../queue/contract';
import { answerWith, type HandledResponse } from '../answer';
import type { TrustedProxies } from '../auth/client-ip';
import { type IntakeDeps, jobData, serveIntakeStream } from '../intake/handler';
import { rumV2, rumV3 } from '../intake/line-check';
import type { EventPacer, StreamOptions } from '../intake/process';
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
      return answerWith('preflight', { headers: { ...deps.cors.preflightHeaders(origin) }, body: '' });
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
  return (request: ProxyRequest, identity: Identity): Promise<HandledResponse> => {
    const clientIp = deps.trustedProxies.clientIp(request.clientIp, request.headers);
    const anonymous = identity.kind === 'anonymous' ? deps.anonymous : null;
    if (anonymous !== null && !anonymous.limiters.allowRequest(clientIp))
      throw new SidecarError('SIDECAR_ERR_ANONYMOUS_RATE_LIMITED');
    const options: Omit<StreamOptions, 'lease'> =
      anonymous === null
        ? { dialect }
        : { dialect, inspect: anonymous.policy.inspect, pacer: eventPacer(anonymous.limiters, clientIp) };
    return serveIntakeStream(deps, request, options, (payload) =>
      jobData(request, identity, payload, { version, clientIp }),
    );
  };
}
