import {
  arr,
  bool,
  freeObject,
  headers,
  int,
  labels,
  obj,
  patterns,
  type SchemaNode,
  str,
  stringOrInt,
  text,
} from './builders';

/** Pieces several intake v2 event types share (APM Server: context, user, faas, stacktrace, otel, links). */

export const user = (): SchemaNode => obj({ domain: str(), id: stringOrInt(), email: str(), username: str() });

export const faas = (): SchemaNode =>
  obj({
    id: text(),
    execution: text(),
    trigger: obj({ type: text(), request_id: text() }),
    name: text(),
    version: text(),
    coldstart: bool(),
  });

export const otel = (): SchemaNode => obj({ attributes: freeObject(), span_kind: text() });

export const spanLinks = (): SchemaNode =>
  arr(obj({ span_id: str(), trace_id: str() }, { required: ['span_id', 'trace_id'] }), 'links');

export const stacktrace = (): SchemaNode =>
  arr(
    obj(
      {
        vars: freeObject(),
        filename: text(),
        abs_path: text(),
        classname: text(),
        context_line: text(),
        function: text(),
        module: text(),
        post_context: arr({ type: 'string' }),
        pre_context: arr({ type: 'string' }),
        lineno: int(),
        colno: int(),
        library_frame: bool(),
      },
      { anyOf: ['classname', 'filename'] },
    ),
    'stacktrace',
  );

const nameVersion = (): SchemaNode => obj({ name: str(), version: str() });

/** context.service of events (metadata.service has stricter rules, see metadata.ts). */
export const contextService = (): SchemaNode =>
  obj({
    agent: obj({ ephemeral_id: str(), name: str(), version: str() }),
    environment: str(),
    framework: nameVersion(),
    id: text(),
    language: nameVersion(),
    name: str({ pattern: patterns.patternAlphaNumericExtOrEmpty }),
    node: obj({ configured_name: str() }),
    origin: obj({ id: text(), name: text(), version: text() }),
    runtime: nameVersion(),
    target: obj({ name: text(), type: text() }, { anyOf: ['type', 'name'] }),
    version: str(),
  });

export const contextMessage = (): SchemaNode =>
  obj({
    headers: headers(),
    body: text(),
    queue: obj({ name: str() }),
    routing_key: text(),
    age: obj({ ms: int() }),
  });

const contextRequest = (): SchemaNode =>
  obj(
    {
      cookies: freeObject(),
      env: freeObject(),
      body: { apmInputTypes: 'string;object' },
      headers: headers(),
      url: obj({
        port: stringOrInt({ targetInt: true }),
        full: str(),
        hash: str(),
        hostname: str(),
        pathname: str(),
        protocol: str(),
        raw: str(),
        search: str(),
      }),
      http_version: str(),
      method: str(),
      socket: obj({ remote_address: text(), encrypted: bool() }),
    },
    { required: ['method'] },
  );

const contextResponse = (): SchemaNode =>
  obj({
    headers: headers(),
    status_code: int(),
    transfer_size: int(),
    decoded_body_size: int(),
    encoded_body_size: int(),
    finished: bool(),
    headers_sent: bool(),
  });

/** context of transactions and errors. */
export const context = (): SchemaNode =>
  obj({
    custom: freeObject(),
    tags: labels(),
    service: contextService(),
    cloud: obj({
      origin: obj({
        account: obj({ id: text() }),
        provider: text(),
        region: text(),
        service: obj({ name: text() }),
      }),
    }),
    user: user(),
    page: obj({ referer: text(), url: text() }),
    request: contextRequest(),
    message: contextMessage(),
    response: contextResponse(),
  });
