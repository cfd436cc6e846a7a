import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 7.6.1) describe one connection and must not be forwarded. Transfer-Encoding
 * stays: Node re-frames the body itself and needs it to know the request is chunked. Expect goes too: Node
 * already answered "100 Continue" to the client, and http-proxy-3 skips its proxyReq event (where the upstream
 * timeout is armed) for requests that still carry it.
 */
const hopByHop = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
  'expect',
];

/** Removes hop-by-hop headers and every header the Connection header names; mutates and returns `headers`. */
function stripHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = (headers.connection ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '' && token !== 'transfer-encoding');
  for (const name of [...hopByHop, ...listed]) delete headers[name];
  return headers;
}

/** Headers through which a client claims where it comes from; believed only from server.trusted_proxies. */
const forwarding = [
  'x-forwarded-for',
  'forwarded',
  'x-real-ip',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
];

export interface UpstreamRequestHeaderOptions {
  /** The upstream's own credential; null sends none. */
  readonly authorization: string | null;
  /** The real peer address of the connection (the socket's, not a header's). */
  readonly peer: string | undefined;
  /** upstream.x_forwarded_for: tell the upstream the agent's address (X-Forwarded-For and Forwarded). */
  readonly forwardFor: boolean;
  /** True when the peer is one of server.trusted_proxies: its own forwarding headers are kept and extended. */
  readonly peerTrusted: boolean;
}

/** RFC 7239 node: IPv6 in brackets and quotes. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

function joined(value: string | string[] | undefined): string {
  return [value ?? []].flat().join(', ');
}

/**
 * The headers the upstream receives: the agent's own credential is never forwarded (the upstream gets its own,
 * or none), hop-by-hop headers and cookies are dropped, and X-Forwarded-For / Forwarded are rebuilt from the
 * real peer: a client's own claims are kept only when it is a trusted proxy, and the peer is added only when
 * upstream.x_forwarded_for is on.
 */
export function rewriteRequestHeaders(
  headers: IncomingHttpHeaders,
  options: UpstreamRequestHeaderOptions,
): IncomingHttpHeaders {
  stripHopByHop(headers);
  delete headers.authorization;
  delete headers.cookie;
  if (options.authorization !== null) headers.authorization = options.authorization;
  const previousFor = options.peerTrusted ? joined(headers['x-forwarded-for']) : '';
  const previousForwarded = options.peerTrusted ? joined(headers.forwarded) : '';
  if (!options.peerTrusted || !options.forwardFor) for (const name of forwarding) delete headers[name];
  if (options.forwardFor && options.peer !== undefined && options.peer !== '') {
    headers['x-forwarded-for'] = previousFor === '' ? options.peer : `${previousFor}, ${options.peer}`;
    const node = `for=${forwardedNode(options.peer)}`;
    headers.forwarded = previousForwarded === '' ? node : `${previousForwarded}, ${node}`;
  }
  return headers;
}

/** What the agent receives of the upstream's answer: no hop-by-hop headers and no cookies. */
export function rewriteResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  stripHopByHop(headers);
  delete headers['set-cookie'];
  return headers;
}

/** The pass-through forwards only the methods the upstream's API needs. */
const passedMethods: ReadonlySet<string> = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

/**
 * Why a request must not reach the upstream, or undefined. The raw request target is judged (before any
 * decoding): an encoded slash or backslash, or a dot segment (plain or percent-encoded), could make a decoding
 * upstream resolve a path outside the one the proxy checked; an Upgrade would turn the exchange into a tunnel.
 */
export function refusalReason(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
): { status: 'method' | 'refused'; reason: string } | undefined {
  if (!passedMethods.has(method)) return { status: 'method', reason: `method ${method} is not passed to the upstream` };
  if (headers.upgrade !== undefined)
    return { status: 'refused', reason: 'protocol upgrades are not passed to the upstream' };
  const queryAt = rawUrl.search(/[?#]/);
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (/%(?:2f|5c)/i.test(path) || path.includes('\\'))
    return { status: 'refused', reason: 'the path holds an encoded slash or a backslash' };
  const segments = path.split('/').map((segment) => segment.replace(/%2e/gi, '.'));
  if (segments.some((segment) => segment === '.' || segment === '..'))
    return { status: 'refused', reason: 'the path holds a dot segment' };
  if (!path.startsWith('/')) return { status: 'refused', reason: 'the request target is not an origin-form path' };
  return undefined;
}
