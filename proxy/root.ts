import { SidecarError } from '../core/errors';
import { sidecarBuild } from '../core/version';
import type { Identity } from '../queue/contract';
import { acceptsJson, answerWith, apmJson, type HandledResponse } from './answer';
import type { BeforeAuth, ProxyRequest, RouteHandler } from './routes';

/**
 * The version GET / reports. The Node agent reads it at start and gates features on it (activation_method is
 * sent only to servers >= 8.7.1; older ones reject the field), so we report the APM Server 8.x whose intake
 * and documents we reproduce rather than our own 0.x version.
 */
const reportedApmServerVersion = '8.19.0';

/** True while events can be queued (Redis reachable): APM Server's "publish_ready". */
export type PublishReady = () => boolean;

/** Before authentication, as APM Server: a POST here is a common misconfiguration of the server URL. */
export const rootMethods: BeforeAuth = (request) => {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  throw new SidecarError(
    'SIDECAR_ERR_METHOD_NOT_SUPPORTED',
    'method not supported: this is the server information endpoint; did you mean to send data to another endpoint instead?',
  );
};

/**
 * GET|HEAD /: 200 always; the server information only for an authenticated caller or when no credentials are
 * configured (identity null: the credential is missing or wrong), an empty body otherwise, exactly as APM
 * Server's root handler (internal/beater/api/root).
 */
export function rootHandler(publishReady: PublishReady): RouteHandler<Identity | null> {
  return (request: ProxyRequest, identity: Identity | null): Promise<HandledResponse> => {
    if (identity === null) return Promise.resolve(answerWith('ok', { headers: {}, body: '' }));
    const info = {
      build_date: sidecarBuild.date,
      build_sha: sidecarBuild.sha,
      publish_ready: publishReady(),
      version: reportedApmServerVersion,
    };
    return Promise.resolve(answerWith('ok', apmJson(info, acceptsJson(request.headers.accept))));
  };
}
