import type { Attributes } from '../../../queue/otlp/model';
import { SpanKind } from '../../../queue/otlp/model';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import { intOf, type LabelSet, truncate } from './labels';
import { statusOutcome } from './outcome';

/** What a span's attributes say, by APM Server's TranslateSpan: type/subtype/action, db, message, destination, service.target. */
export interface SpanAttributes {
  readonly span: Record<string, unknown>;
  readonly fields: Record<string, unknown>;
  readonly outcome: string;
}

interface Collected {
  httpUrl?: string;
  httpHost?: string;
  httpTarget?: string;
  urlPath?: string;
  urlQuery?: string;
  httpScheme: string;
  httpMethod?: string;
  httpStatus?: number;
  isHttp: boolean;
  db: Record<string, unknown>;
  isDb: boolean;
  queueName?: string;
  messageSystem?: string;
  messageOperation?: string;
  tempDestination: boolean;
  isMessaging: boolean;
  rpcSystem?: string;
  rpcService?: string;
  isRpc: boolean;
  genAiSystem?: string;
  peerName?: string;
  peerIp?: string;
  peerPort?: number;
  peerService?: string;
  peerAddress?: string;
}

function defaultPort(scheme: string): number {
  if (scheme === 'http') return 80;
  if (scheme === 'https') return 443;
  return -1;
}

function collect(
  attributes: Attributes,
  labels: LabelSet,
  dataStream: DataStreamOverride,
  fields: Record<string, unknown>,
): Collected {
  const c: Collected = {
    httpScheme: 'http',
    isHttp: false,
    db: {},
    isDb: false,
    tempDestination: false,
    isMessaging: false,
    isRpc: false,
  };
  for (const [key, value] of attributes) {
    if (readDataStreamAttribute(key, value, dataStream)) continue;
    if (
      typeof value === 'boolean' &&
      (key === 'messaging.temp_destination' || key === 'messaging.destination.temporary')
    )
      c.tempDestination = value;
    if (typeof value === 'number') {
      switch (key) {
        case 'http.status_code':
        case 'http.response.status_code':
          c.httpStatus = Math.trunc(value);
          c.isHttp = true;
          continue;
        case 'net.peer.port':
        case 'server.port':
        case 'peer.port':
          c.peerPort = Math.trunc(value);
          continue;
        case 'rpc.grpc.status_code':
          c.rpcSystem = 'grpc';
          c.isRpc = true;
          continue;
      }
    }
    if (typeof value !== 'string') {
      labels.set(key, value);
      continue;
    }
    const s = truncate(value);
    switch (key) {
      case 'http.host':
        c.httpHost = s;
        c.isHttp = true;
        break;
      case 'http.scheme':
      case 'url.scheme':
        c.httpScheme = s;
        c.isHttp = true;
        break;
      case 'http.target':
        c.httpTarget = s;
        c.isHttp = true;
        break;
      case 'url.path':
        c.urlPath = s;
        c.isHttp = true;
        break;
      case 'url.query':
        c.urlQuery = s;
        c.isHttp = true;
        break;
      case 'http.url':
      case 'url.full':
        c.httpUrl = s;
        c.isHttp = true;
        break;
      case 'http.method':
      case 'http.request.method':
        c.httpMethod = s;
        c.isHttp = true;
        break;
      case 'http.status_code':
      case 'http.response.status_code': {
        const code = intOf(s);
        if (code !== undefined) {
          c.httpStatus = code;
          c.isHttp = true;
        } else labels.setString(key, s);
        break;
      }
      case 'sql.query':
        c.db.type ??= 'sql';
        c.db.statement = value;
        c.isDb = true;
        break;
      case 'db.statement':
      case 'db.query.text':
        c.db.statement = value;
        c.isDb = true;
        break;
      case 'db.name':
      case 'db.namespace':
      case 'db.instance':
      case 'db.elasticsearch.cluster.name':
        c.db.instance = s;
        c.isDb = true;
        break;
      case 'db.system':
      case 'db.system.name':
      case 'db.type':
        c.db.type = s;
        c.isDb = true;
        break;
      case 'db.user':
        c.db.user = { name: s };
        c.isDb = true;
        break;
      case 'net.peer.name':
      case 'peer.hostname':
      case 'server.address':
        c.peerName = s;
        break;
      case 'net.peer.ip':
      case 'net.sock.peer.addr':
      case 'network.peer.address':
      case 'peer.ipv4':
      case 'peer.ipv6':
        c.peerIp = s;
        break;
      case 'peer.address':
        c.peerAddress = s;
        break;
      case 'session.id':
        fields.session = { id: s };
        break;
      case 'messaging.destination':
      case 'messaging.destination.name':
      case 'message_bus.destination':
        c.queueName = s;
        c.isMessaging = true;
        break;
      case 'messaging.operation':
      case 'messaging.operation.type':
        c.messageOperation = s;
        c.isMessaging = true;
        break;
      case 'messaging.operation.name':
        labels.setString(key, s);
        c.isMessaging = true;
        break;
      case 'messaging.system':
        c.messageSystem = s;
        c.isMessaging = true;
        break;
      case 'rpc.system':
        c.rpcSystem = s;
        c.isRpc = true;
        break;
      case 'rpc.service':
        c.rpcService = s;
        c.isRpc = true;
        break;
      case 'rpc.grpc.status_code':
        c.rpcSystem = 'grpc';
        c.isRpc = true;
        break;
      case 'rpc.method':
        break;
      case 'code.stacktrace':
        fields.code = { stacktrace: value };
        break;
      case 'gen_ai.system':
      case 'gen_ai.provider.name':
        c.genAiSystem = s;
        break;
      case 'span.kind':
        break;
      case 'peer.service':
        c.peerService = s;
        break;
      default:
        labels.setString(key, s);
    }
  }
  return c;
}

function parseAbsolute(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

export function translateSpan(
  kind: number,
  attributes: Attributes,
  status: { code: number },
  labels: LabelSet,
  dataStream: DataStreamOverride,
): SpanAttributes {
  const fields: Record<string, unknown> = {};
  const c = collect(attributes, labels, dataStream, fields);
  if (
    c.peerName === undefined &&
    c.peerAddress !== undefined &&
    (!c.peerAddress.includes(':') || /^[0-9a-f:.]+$/i.test(c.peerAddress))
  )
    c.peerName = c.peerAddress;
  let destPort = c.peerPort ?? 0;
  let destAddr = c.peerName ?? c.peerIp ?? '';
  let httpUrl = c.httpUrl;
  let fullUrl: URL | undefined;
  if (httpUrl !== undefined) fullUrl = parseAbsolute(httpUrl);
  else if (c.httpTarget !== undefined || c.urlPath !== undefined) {
    const target = c.httpTarget ?? (c.urlQuery === undefined ? (c.urlPath ?? '') : `${c.urlPath ?? ''}?${c.urlQuery}`);
    const host = c.httpHost ?? (destPort > 0 ? `${destAddr}:${destPort}` : destAddr);
    fullUrl = parseAbsolute(`${c.httpScheme}://${host}${target.startsWith('/') ? '' : '/'}${target}`);
    if (fullUrl !== undefined) httpUrl = fullUrl.href;
  }
  if (fullUrl !== undefined) {
    const scheme = fullUrl.protocol.replace(/:$/, '');
    const port = fullUrl.port !== '' ? Number(fullUrl.port) : defaultPort(scheme);
    destAddr = truncate(fullUrl.hostname.replace(/^\[|\]$/g, ''));
    if (port > 0) destPort = port;
  }
  const span: Record<string, unknown> = {};
  const target: { type?: string; name?: string } = {};
  const destination: { type?: string; name?: string; resource?: string } = {};
  if (c.peerService !== undefined) {
    target.name = c.peerService;
    destination.name = c.peerService;
    destination.resource = c.peerService;
  }
  if (c.peerAddress !== undefined) destination.resource = c.peerAddress;
  let outcome = statusOutcome(status.code);
  if (c.isHttp) {
    if (c.httpStatus !== undefined && c.httpStatus > 0 && outcome === 'unknown')
      outcome = c.httpStatus >= 400 ? 'failure' : 'success';
    const http: Record<string, unknown> = {};
    if (c.httpMethod !== undefined) http.request = { method: c.httpMethod };
    if (c.httpStatus !== undefined) http.response = { status_code: c.httpStatus };
    if (Object.keys(http).length > 0) fields.http = http;
    if (httpUrl !== undefined) fields.url = { original: httpUrl };
  }
  if (c.isDb) span.db = c.db;
  if (c.isMessaging && c.queueName !== undefined) span.message = { queue: { name: c.queueName } };
  if (c.isDb) {
    span.type = 'db';
    if (c.db.type !== undefined) span.subtype = c.db.type;
    target.type = typeof c.db.type === 'string' && c.db.type !== '' ? c.db.type : 'db';
    if (typeof c.db.type === 'string' && c.db.type !== '' && destination.name === undefined) {
      destination.name = c.db.type;
      destination.resource = c.db.type;
    }
    if (typeof c.db.instance === 'string' && c.db.instance !== '') target.name = c.db.instance;
  } else if (c.isMessaging) {
    span.type = 'messaging';
    if (c.messageSystem !== undefined) span.subtype = c.messageSystem;
    const action = c.messageOperation ?? (kind === SpanKind.producer ? 'send' : undefined);
    if (action !== undefined) span.action = action;
    target.type = c.messageSystem !== undefined && c.messageSystem !== '' ? c.messageSystem : 'messaging';
    if (c.messageSystem !== undefined && c.messageSystem !== '' && destination.name === undefined) {
      destination.name = c.messageSystem;
      destination.resource = c.messageSystem;
    }
    if (
      destination.resource !== undefined &&
      destination.resource !== '' &&
      c.queueName !== undefined &&
      c.queueName !== ''
    )
      destination.resource += `/${c.queueName}`;
    if (c.queueName !== undefined && c.queueName !== '' && !c.tempDestination) target.name = c.queueName;
  } else if (c.isRpc) {
    span.type = 'external';
    if (c.rpcSystem !== undefined) span.subtype = c.rpcSystem;
    target.type = c.rpcSystem !== undefined && c.rpcSystem !== '' ? c.rpcSystem : 'external';
    if (destination.name === undefined) {
      const hostPort = destAddr.includes(':') ? `[${destAddr}]:${destPort}` : `${destAddr}:${destPort}`;
      destination.name = hostPort;
      destination.resource = hostPort;
    }
    if (c.rpcService !== undefined) target.name = c.rpcService;
  } else if (c.isHttp) {
    span.type = 'external';
    span.subtype = 'http';
    target.type = 'http';
    if (fullUrl !== undefined) {
      const scheme = fullUrl.protocol.replace(/:$/, '');
      let resource = fullUrl.host;
      let origin = `${scheme}://${fullUrl.host}`;
      if (destPort === defaultPort(scheme)) {
        if (fullUrl.port !== '') origin = `${scheme}://${destAddr}`;
        else resource = `${resource}:${destPort}`;
      }
      target.name = resource;
      if (destination.name === undefined) {
        destination.name = origin;
        destination.resource = resource;
      }
    }
  } else if (c.genAiSystem !== undefined) {
    span.type = 'genai';
    span.subtype = c.genAiSystem;
    target.type = 'genai';
  } else {
    span.type = kind === SpanKind.internal ? 'app' : 'unknown';
    if (kind === SpanKind.internal) span.subtype = 'internal';
  }
  if (destAddr !== '')
    fields.destination = destPort > 0 ? { address: destAddr, port: destPort } : { address: destAddr };
  if (Object.keys(destination).length > 0) span.destination = { service: { type: span.type, ...destination } };
  if (Object.keys(target).length > 0)
    fields.serviceTarget = { type: target.type ?? '', ...(target.name === undefined ? {} : { name: target.name }) };
  if (outcome === 'unknown') outcome = 'success';
  return { span, fields, outcome };
}
