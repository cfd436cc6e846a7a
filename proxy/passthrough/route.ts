import type { RequestAuthenticator } from '../auth/authenticate';
import type { RouteHandler } from '../routes';
import { UpstreamPassthrough } from './passthrough';

/**
 * Every path the proxy does not serve, when upstream.url is set: the caller must hold a credential the proxy
 * accepts for intake (a secret token, or an API key with event:write) before anything reaches the upstream.
 * The pass-through writes the answer itself; the returned status only labels the request metric.
 */
export function passthroughRoute(passthrough: UpstreamPassthrough, authenticator: RequestAuthenticator): RouteHandler {
  return async (request, res) => {
    const identity = await authenticator.authenticate(request.headers.authorization, 'event:write', request.clientIp);
    UpstreamPassthrough.assertPassable(res.req);
    await passthrough.handle(res.req, res, identity, request.body);
    return { status: res.statusCode, headers: {}, body: '', result: 'passthrough' };
  };
}
