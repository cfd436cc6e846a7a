import type { Attributes } from '../../../queue/otlp/model';
import { parseUrl } from '../http';
import { canonicalIp } from '../net';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import { intOf, type LabelSet, truncate } from './labels';
import { grpcCodeName, httpStatusResult, statusOutcome, statusResult } from './outcome';

/** What a transaction's attributes say, by APM Server's TranslateTransaction (old and new semconv names). */
export interface TransactionAttributes {
  readonly type: string;
  readonly result: string;
  readonly outcome: string;
  readonly fields: Record<string, unknown>;
  readonly queueName: string | undefined;
  readonly profilerStackTraceIds: string[] | undefined;
}

interface HttpParts {
  isHttp: boolean;
  method?: string;
  status?: number;
  version?: string;
  url?: string;
  path?: string;
  query?: string;
  scheme?: string;
  host?: string;
  serverName?: string;
}

function hostPort(host: string, port: number | undefined): string {
  if (port === undefined || port <= 0) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function urlFields(original: string, host: string | undefined, scheme: string | undefined): Record<string, unknown> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(original) || host === undefined || host === '') return parseUrl(original);
  const parsed = parseUrl(`${scheme ?? 'http'}://${host}${original.startsWith('/') ? '' : '/'}${original}`);
  return { ...parsed, original };
}

export function translateTransaction(
  attributes: Attributes,
  status: { code: number },
  labels: LabelSet,
  dataStream: DataStreamOverride,
  hostName: string | undefined,
): TransactionAttributes {
  const fields: Record<string, unknown> = {};
  const http: HttpParts = { isHttp: false };
  const source: Record<string, unknown> = {};
  let type: string | undefined;
  let result = '';
  let isRpc = false;
  let isMessaging = false;
  let queueName: string | undefined;
  let netHostName: string | undefined;
  let netHostPort: number | undefined;
  let profilerStackTraceIds: string[] | undefined;
  for (const [key, value] of attributes) {
    if (readDataStreamAttribute(key, value, dataStream)) continue;
    const s = typeof value === 'string' ? truncate(value) : undefined;
    switch (key) {
      case 'http.status_code':
      case 'http.response.status_code': {
        const code = intOf(value);
        if (code !== undefined) Object.assign(http, { isHttp: true, status: code });
        continue;
      }
      case 'net.peer.port':
      case 'client.port':
        if (typeof value === 'number') source.port = Math.trunc(value);
        continue;
      case 'net.host.port':
      case 'server.port':
        if (typeof value === 'number') netHostPort = Math.trunc(value);
        continue;
      case 'rpc.grpc.status_code':
        isRpc = true;
        if (typeof value === 'number') result = grpcCodeName(value);
        continue;
      case 'elastic.profiler_stack_trace_ids':
        if (Array.isArray(value)) profilerStackTraceIds = value.filter((v): v is string => typeof v === 'string');
        continue;
    }
    if (s === undefined) {
      labels.set(key, value);
      continue;
    }
    switch (key) {
      case 'http.method':
      case 'http.request.method':
        Object.assign(http, { isHttp: true, method: s });
        break;
      case 'http.url':
      case 'url.full':
      case 'http.target':
      case 'http.path':
        Object.assign(http, { isHttp: true, url: s });
        break;
      case 'url.path':
        Object.assign(http, { isHttp: true, path: s });
        break;
      case 'url.query':
        Object.assign(http, { isHttp: true, query: s });
        break;
      case 'http.host':
        Object.assign(http, { isHttp: true, host: s });
        break;
      case 'http.scheme':
      case 'url.scheme':
        Object.assign(http, { isHttp: true, scheme: s });
        break;
      case 'http.protocol':
        if (!s.startsWith('HTTP/')) labels.setString(key, s);
        else Object.assign(http, { isHttp: true, version: s.slice(5) });
        break;
      case 'http.flavor':
        Object.assign(http, { isHttp: true, version: s });
        break;
      case 'http.server_name':
        Object.assign(http, { isHttp: true, serverName: s });
        break;
      case 'http.client_ip': {
        const ip = canonicalIp(s);
        if (ip !== undefined) fields.client = { ip };
        break;
      }
      case 'http.user_agent':
      case 'user_agent.original':
        fields.user_agent = { original: s };
        break;
      case 'net.peer.ip':
      case 'net.sock.peer.addr': {
        const ip = canonicalIp(s);
        if (ip !== undefined) source.ip = ip;
        break;
      }
      case 'net.peer.name':
      case 'client.address':
        source.domain = s;
        break;
      case 'net.host.name':
      case 'server.address':
        netHostName = s;
        break;
      case 'messaging.destination':
      case 'messaging.destination.name':
      case 'message_bus.destination':
        isMessaging = true;
        queueName = s;
        break;
      case 'messaging.system':
      case 'messaging.operation':
      case 'messaging.operation.type':
      case 'messaging.operation.name':
        isMessaging = true;
        labels.setString(key, s);
        break;
      case 'rpc.system':
        isRpc = true;
        break;
      case 'rpc.service':
      case 'rpc.method':
        break;
      case 'type':
        type = s;
        break;
      case 'session.id':
        fields.session = { id: s };
        break;
      case 'service.version':
        fields.serviceVersion = s;
        break;
      default:
        labels.setString(key, s);
    }
  }
  type ??= isMessaging ? 'messaging' : http.isHttp || isRpc ? 'request' : 'unknown';
  let outcome = statusOutcome(status.code);
  if (http.isHttp) {
    const httpDoc: Record<string, unknown> = {};
    if (http.method !== undefined) httpDoc.request = { method: http.method };
    if (http.status !== undefined && http.status > 0) {
      httpDoc.response = { status_code: http.status };
      if (outcome === 'unknown') outcome = http.status >= 500 ? 'failure' : 'success';
      if (result === '') result = httpStatusResult(http.status);
    }
    if (http.version !== undefined) httpDoc.version = http.version;
    if (Object.keys(httpDoc).length > 0) fields.http = httpDoc;
    const host =
      http.host ??
      http.serverName ??
      (netHostName !== undefined || hostName !== undefined
        ? hostPort(netHostName ?? hostName ?? '', netHostPort)
        : undefined);
    let original = http.url;
    if (original === undefined && http.path !== undefined)
      original = http.query === undefined ? http.path : `${http.path}?${http.query}`;
    if (original !== undefined) fields.url = urlFields(original, host, http.scheme);
  }
  if (Object.keys(source).length > 0) {
    fields.source = source;
    fields.client ??= { ...source };
  }
  if (result === '') result = statusResult(status.code);
  if (outcome === 'unknown') {
    outcome = 'success';
    if (result === '') result = 'Success';
  }
  return { type, result, outcome, fields, queueName: isMessaging ? queueName : undefined, profilerStackTraceIds };
}
