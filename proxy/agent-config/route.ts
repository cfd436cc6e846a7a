import type { DeclaredRoute } from '../routes';
import { type AgentConfigEndpoint, agentConfigErrorBody } from './endpoint';

/**
 * /config/v1/agents in the route table, which authorises it like intake (a secret token, or an API key with
 * config_agent:read); the endpoint answers, and its failures are rendered by the server in its words.
 */
export function agentConfigRoute(endpoint: AgentConfigEndpoint): DeclaredRoute {
  return {
    handler: (request, identity) =>
      endpoint.respond(
        { method: request.method, query: request.query, headers: request.headers, body: request.body },
        identity,
      ),
    errorBody: agentConfigErrorBody,
  };
}
