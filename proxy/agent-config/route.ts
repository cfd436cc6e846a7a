import type { RouteHandler } from '../routes';
import type { AgentConfigEndpoint } from './endpoint';

/**
 * /config/v1/agents in the route table, which authorises it like intake (a secret token, or an API key with
 * config_agent:read; a refusal is thrown and rendered by the server); then answered by the endpoint.
 */
export function agentConfigRoute(endpoint: AgentConfigEndpoint): RouteHandler {
  return (request, identity) =>
    endpoint.respond(
      { method: request.method, query: request.query, headers: request.headers, body: request.body },
      identity,
    );
}
