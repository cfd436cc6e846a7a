import { bool, type JsonObject, nonEmptyObj, num, obj, orUndefined, put, str } from './json';
import { memoizeBounded } from './memo';
import { splitAddrPort } from './net';
import { sanitizeKeys } from './values';

export type Headers = Record<string, string[]>;

/**
 * Go's textproto.CanonicalMIMEHeaderKey: "user-agent" -> "User-Agent"; keys that are not HTTP tokens stay as given.
 * Remembered: agents send the same few dozen header names over and over.
 */
export const canonicalHeaderKey: (key: string) => string = memoizeBounded(canonicalize, 1024);

function canonicalize(key: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) return key;
  let out = '';
  let upper = true;
  for (const ch of key) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

function headerValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Header maps become {Canonical-Key: [values]}; empty value lists are dropped, as Go's http.Header decoding does. */
export function parseHeaders(from: JsonObject | undefined, key: string): Headers | undefined {
  const raw = obj(from, key);
  if (raw === undefined) return undefined;
  const out: Headers = {};
  let any = false;
  for (const name in raw) {
    const values = headerValues(raw[name]);
    if (values.length === 0) continue;
    const canonical = canonicalHeaderKey(name);
    const earlier = out[canonical];
    // Two spellings of one name ("accept" and "Accept") merge, the first one's values first.
    out[canonical] = earlier === undefined ? values : earlier.concat(values);
    any = true;
  }
  return any ? out : undefined;
}

interface ClientAddress {
  readonly ip: string;
  readonly port: number;
}

function firstHeader(headers: Headers | undefined, name: string): string | undefined {
  const values = headers?.[name];
  return values !== undefined && values[0] !== undefined && values[0] !== '' ? values[0] : undefined;
}

/** The original client behind proxies: Forwarded (for=), X-Real-Ip, then the first X-Forwarded-For entry. */
function clientFromHeaders(headers: Headers | undefined): ClientAddress | undefined {
  const forwarded = firstHeader(headers, 'Forwarded');
  const forMatch = forwarded === undefined ? null : /(?:^|[;,\s])for=("?)([^";,]+)\1/i.exec(forwarded);
  const candidates = [
    forMatch?.[2],
    firstHeader(headers, 'X-Real-Ip'),
    firstHeader(headers, 'X-Forwarded-For')?.split(',')[0]?.trim(),
  ];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const addr = splitAddrPort(candidate);
    if (addr !== undefined) return addr;
  }
  return undefined;
}

/** source.* and client.* of a backend event, from context.request (socket address, then forwarding headers). */
export function putClientAndSource(
  doc: JsonObject,
  request: JsonObject | undefined,
  headers: Headers | undefined,
): void {
  const remote = str(obj(request, 'socket'), 'remote_address');
  const socket = remote === undefined ? undefined : splitAddrPort(remote);
  const forwarded = clientFromHeaders(headers);
  const source = forwarded ?? socket;
  if (source === undefined) return;
  const sourceDoc: JsonObject = { ip: source.ip };
  if (source.port > 0) sourceDoc.port = source.port;
  if (forwarded !== undefined && socket !== undefined) sourceDoc.nat = { ip: socket.ip };
  doc.source = sourceDoc;
  doc.client = source.port > 0 ? { ip: source.ip, port: source.port } : { ip: source.ip };
}

export function userAgentOriginal(headers: Headers | undefined): string | undefined {
  const values = headers?.['User-Agent'];
  return values === undefined ? undefined : values.join(', ');
}

/** http.request from context.request (method, env, body, cookies, headers). */
export function requestDoc(request: JsonObject, headers: Headers | undefined): JsonObject {
  const out: JsonObject = {};
  put(out, 'method', str(request, 'method'));
  const env = nonEmptyObj(request, 'env');
  if (env !== undefined) out.env = sanitizeKeys(env);
  const body = request.body;
  if (body !== undefined && body !== null) out.body = { original: body };
  const cookies = nonEmptyObj(request, 'cookies');
  if (cookies !== undefined) out.cookies = sanitizeKeys(cookies);
  put(out, 'headers', headers);
  return out;
}

export function responseDoc(response: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'status_code', num(response, 'status_code'));
  put(out, 'finished', bool(response, 'finished'));
  put(out, 'headers_sent', bool(response, 'headers_sent'));
  put(out, 'transfer_size', num(response, 'transfer_size'));
  put(out, 'encoded_body_size', num(response, 'encoded_body_size'));
  put(out, 'decoded_body_size', num(response, 'decoded_body_size'));
  put(out, 'headers', parseHeaders(response, 'headers'));
  return out;
}

/** url.* from context.request.url (the agent's already-split parts). */
export function requestUrlDoc(url: JsonObject): JsonObject | undefined {
  const out: JsonObject = {};
  put(out, 'original', str(url, 'raw'));
  put(out, 'full', str(url, 'full'));
  put(out, 'domain', str(url, 'hostname'));
  put(out, 'path', str(url, 'pathname'));
  put(out, 'query', str(url, 'search'));
  put(out, 'fragment', str(url, 'hash'));
  const protocol = str(url, 'protocol');
  if (protocol !== undefined)
    put(out, 'scheme', protocol.endsWith(':') ? protocol.slice(0, -1) || undefined : protocol);
  const port = url.port;
  const portNumber =
    typeof port === 'number' ? port : typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : undefined;
  if (portNumber !== undefined && portNumber > 0) out.port = portNumber;
  return orUndefined(out);
}

/** url.* from a full URL string (context.page.url), as APM Server's ParseURL does. */
export function parseUrl(original: string): JsonObject {
  let url: URL;
  try {
    url = new URL(original, 'http://placeholder.invalid');
  } catch {
    return { original };
  }
  const absolute = !original.startsWith('/');
  const out: JsonObject = { original, scheme: url.protocol.replace(/:$/, '') };
  if (absolute) {
    out.full = url.href;
    put(out, 'domain', url.hostname.replace(/^\[|\]$/g, '') || undefined);
  }
  put(out, 'path', url.pathname || undefined);
  put(out, 'query', url.search.replace(/^\?/, '') || undefined);
  put(out, 'fragment', url.hash.replace(/^#/, '') || undefined);
  if (url.port !== '') out.port = Number(url.port);
  return out;
}
