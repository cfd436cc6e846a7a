import type { IntakeJobData } from '../../../queue/contract';
import type { JsonObject } from '../json';
import { canonicalIp } from '../net';

/**
 * What APM Server's RUM intake takes from the HTTP request itself for every document: user_agent.original (the
 * browser's User-Agent), client.ip (the browser, through trusted proxies) and source.ip/port (the socket peer).
 * An event's own context (e.g. context.request.headers) may still override user_agent.
 */
export function rumRequestFields(client: IntakeJobData['client'], rum: IntakeJobData['rum']): JsonObject {
  if (rum === undefined) return {};
  const out: JsonObject = {};
  if (client.userAgent !== null && client.userAgent !== '') out.user_agent = { original: client.userAgent };
  const clientIp = canonicalIp(client.ip);
  if (clientIp !== undefined) out.client = { ip: clientIp };
  const sourceIp = canonicalIp(rum.source.ip);
  if (sourceIp !== undefined)
    out.source = rum.source.port === null ? { ip: sourceIp } : { ip: sourceIp, port: rum.source.port };
  return out;
}
