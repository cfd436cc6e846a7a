import type { RequestAuthenticator } from '../auth/authenticate';
import type { RouteHandler } from '../routes';
import type { AgentConfigEndpoint } from './endpoint';

/**
 * /config/v1/agents in the route table: authorised like intake (a secret token, or an API key with
 * config_agent:read; a refusal is thrown and rendered by the server), then answered by the endpoint.
 */
export function agentConfigRoute(endpoint: AgentConfigEndpoint, authenticator: RequestAuthenticator): RouteHandler {
  return async (request) => {
    const identity = await authenticator.authenticate(
      request.headers.authorization,
      'config_agent:read',
      request.clientIp,
    );
    return endpoint.respond(
      { method: request.method, query: request.query, headers: request.headers, body: request.body },
      identity,
    );
  };
}
