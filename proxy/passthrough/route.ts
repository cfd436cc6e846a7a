import type { IncomingMessage } from 'node:http';

import { SidecarError } from '../../core/errors';
import { compactErrorBody } from '../answer';
import type { DeclaredRoute } from '../routes';
import { refusalReason } from './headers';
import type { UpstreamPassthrough } from './passthrough';

/**
 * Throws the answer for a request that must not be passed (method, upgrade, encoded slash, dot segment); the
 * route renders it. Nothing of such a request reaches the upstream.
 */
function assertPassable(req: IncomingMessage): void {
  const refusal = refusalReason(req.method ?? 'GET', req.url ?? '/', req.headers);
  if (refusal === undefined) return;
  throw new SidecarError(
    refusal.status === 'method' ? 'SIDECAR_ERR_METHOD_NOT_SUPPORTED' : 'SIDECAR_ERR_PASSTHROUGH_REFUSED',
    `${refusal.status === 'method' ? 'method not supported' : 'request refused'}: ${refusal.reason}`,
  );
}

/**
 * Every path the proxy does not serve, when upstream.url is set: the route table lets through only a caller with a
 * credential the proxy accepts for intake (a secret token, or an API key with event:write). The pass-through
 * streams the upstream's answer itself (the returned status only labels the request metric); a refusal or an
 * upstream failure before any byte went out is thrown and rendered by the server.
 */
export function passthroughRoute(passthrough: UpstreamPassthrough): DeclaredRoute {
  return {
    handler: async (request, identity, res) => {
      assertPassable(res.req);
      await passthrough.handle(res.req, res, identity, request.body);
      return { status: res.statusCode, headers: {}, body: '', result: 'passthrough' };
    },
    errorBody: compactErrorBody,
  };
}
