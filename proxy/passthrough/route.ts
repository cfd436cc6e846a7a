import type { RouteHandler } from '../routes';
import { UpstreamPassthrough } from './passthrough';

/**
 * Every path the proxy does not serve, when upstream.url is set: the route table lets through only a caller with a
 * credential the proxy accepts for intake (a secret token, or an API key with event:write). The pass-through
 * writes the answer itself; the returned status only labels the request metric.
 */
export function passthroughRoute(passthrough: UpstreamPassthrough): RouteHandler {
  return async (request, identity, res) => {
    UpstreamPassthrough.assertPassable(res.req);
    await passthrough.handle(res.req, res, identity, request.body);
    return { status: res.statusCode, headers: {}, body: '', result: 'passthrough' };
  };
}
