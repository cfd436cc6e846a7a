import type { Logger } from 'pino';
import type { SidecarConfig } from '../../config/schema';

/**
 * Agent API keys (server.auth.api_key.enabled), verified as APM Server does: _has_privileges with the agent's
 * own key on application "apm", resource "-". Placeholder interface: implemented by the cluster-security work.
 */
export type ApiKeyPrivilege = 'event:write' | 'config_agent:read';

export type ApiKeyVerdict =
  | { readonly kind: 'ok'; readonly keyId: string }
  | { readonly kind: 'unauthorized'; readonly reason: string }
  | { readonly kind: 'forbidden'; readonly reason: string };

export interface ApiKeyVerifier {
  /**
   * `credentials` is what follows "ApiKey " in the Authorization header (base64 of id:key).
   * Throws SidecarError SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE (cluster unreachable) or SIDECAR_ERR_RATE_LIMITED.
   */
  verify(credentials: string, privilege: ApiKeyPrivilege): Promise<ApiKeyVerdict>;
  close(): Promise<void>;
}

export function createApiKeyVerifier(_config: SidecarConfig, _logger: Logger): ApiKeyVerifier {
  throw new Error('API key verification is not built yet (placeholder)');
}
