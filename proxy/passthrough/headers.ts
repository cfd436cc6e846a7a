import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 7.6.1) describe one connection and must not be forwarded. Transfer-Encoding
 * stays: Node re-frames the body itself and needs it to know the request is chunked. Expect goes too: Node
 * already answered "100 Continue" to the client, and http-proxy-3 skips its proxyReq event (where the upstream
 * timeout is armed) for requests that still carry it.
 */
const hopByHop = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade', 'expect'];

/** Removes hop-by-hop headers and every header the Connection header names; mutates and returns `headers`. */
export function stripHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = (headers.connection ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '' && token !== 'transfer-encoding');
  for (const name of [...hopByHop, ...listed]) delete headers[name];
  return headers;
}

export interface UpstreamRequestHeaderOptions {
  /** The upstream's own credential; null sends none. */
  readonly authorization: string | null;
  /** The agent's address, appended to X-Forwarded-For; undefined adds nothing. */
  readonly forwardFor: string | undefined;
}

/**
 * The headers the upstream receives: the agent's own credential is never forwarded (the upstream gets its own,
 * or none), hop-by-hop headers are dropped, and X-Forwarded-For is extended only when configured.
 */
export function rewriteRequestHeaders(headers: IncomingHttpHeaders, options: UpstreamRequestHeaderOptions): IncomingHttpHeaders {
  stripHopByHop(headers);
  delete headers.authorization;
  if (options.authorization !== null) headers.authorization = options.authorization;
  if (options.forwardFor !== undefined) {
    const previous = [headers['x-forwarded-for'] ?? []].flat().join(', ');
    headers['x-forwarded-for'] = previous === '' ? options.forwardFor : `${previous}, ${options.forwardFor}`;
  }
  return headers;
}
