import { compactErrorBody } from '../answer';
import type { DeclaredRoute } from '../routes';
import { UpstreamPassthrough } from './passthrough';

/**
 * Every path the proxy does not serve, when upstream.url is set: the route table lets through only a caller with a
 * credential the proxy accepts for intake (a secret token, or an API key with event:write). The pass-through
 * streams the upstream's answer itself (the returned status only labels the request metric); a refusal or an
 * upstream failure before any byte went out is thrown and rendered by the server.
 */
export function passthroughRoute(passthrough: UpstreamPassthrough): DeclaredRoute {
  return {
    handler: async (request, identity, res) => {
      UpstreamPassthrough.assertPassable(res.req);
      await passthrough.handle(res.req, res, identity, request.body);
      return { status: res.statusCode, headers: {}, body: '', result: 'passthrough' };
    },
    errorBody: compactErrorBody,
  };
}
