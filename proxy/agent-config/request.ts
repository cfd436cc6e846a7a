import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

import { SidecarError } from '../../core/errors';
import { isRecord } from '../../core/parse';
import type { AgentConfigQuery } from './model';

/** A POST query is a few hundred bytes; anything much larger is not an agent. */
const maxQueryBodyBytes = 64 * 1024;

/** The parts of a request the endpoint reads; an IncomingMessage or the route table's parsed request. */
export interface AgentConfigRequest {
  readonly method: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

export interface ParsedAgentConfigRequest {
  readonly query: AgentConfigQuery;
  /** The etag the agent already has, unquoted; '' when none. */
  readonly ifNoneMatch: string;
}

/**
 * APM Server's ifNoneMatch(): the If-None-Match header with every quote removed, else the `ifnonematch` query
 * parameter (RUM agents cannot set the header). A POST body's "etag" is not consulted, as APM Server does not.
 */
function ifNoneMatchOf(req: AgentConfigRequest): string {
  const header = req.headers['if-none-match'];
  if (header !== undefined && header !== '') return header.replaceAll('"', '');
  return req.query.get('ifnonematch') ?? '';
}

function invalidQuery(detail: string, verbose: boolean): SidecarError {
  return new SidecarError('SIDECAR_ERR_AGENT_CONFIG_INVALID_QUERY', verbose ? detail : undefined);
}

/** `{"service":{"name","environment"},"etag"}` as agents POST it; extra fields are ignored. */
export function parseQueryBody(text: string, verbose: boolean): AgentConfigQuery {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw invalidQuery(`invalid JSON body: ${err instanceof Error ? err.message : String(err)}`, verbose);
  }
  const service = isRecord(body) ? body.service : undefined;
  if (service !== undefined && !isRecord(service)) throw invalidQuery('service must be an object', verbose);
  const name = service?.name ?? '';
  const environment = service?.environment ?? '';
  if (typeof name !== 'string' || typeof environment !== 'string')
    throw invalidQuery('service.name and service.environment must be strings', verbose);
  return { serviceName: name, serviceEnvironment: environment };
}

async function readBody(body: Readable, verbose: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxQueryBodyBytes) throw invalidQuery('request body too large', verbose);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads the query of a GET (?service.name=&service.environment=) or POST (JSON body) request. `verbose` is
 * APM Server's rule: authenticated callers get the detailed message, anonymous ones only "invalid query".
 * Throws SIDECAR_ERR_METHOD_NOT_SUPPORTED (405) or SIDECAR_ERR_AGENT_CONFIG_INVALID_QUERY (400).
 */
export async function parseAgentConfigRequest(
  req: AgentConfigRequest,
  verbose: boolean,
): Promise<ParsedAgentConfigRequest> {
  let query: AgentConfigQuery;
  if (req.method === 'GET') {
    query = {
      serviceName: req.query.get('service.name') ?? '',
      serviceEnvironment: req.query.get('service.environment') ?? '',
    };
  } else if (req.method === 'POST') {
    query = parseQueryBody(await readBody(req.body, verbose), verbose);
  } else {
    throw new SidecarError(
      'SIDECAR_ERR_METHOD_NOT_SUPPORTED',
      verbose ? `method not supported: ${req.method}` : undefined,
    );
  }
  if (query.serviceName === '') throw invalidQuery('service.name is required', verbose);
  return { query, ifNoneMatch: ifNoneMatchOf(req) };
}
