import type { SidecarConfig } from '../../config/schema';
import { SidecarError } from '../../core/errors';

/** API keys are verified against output.elasticsearch; the proxy and `apm-sidecar check` refuse it without hosts. */
export function assertApiKeysVerifiable(config: SidecarConfig): void {
  if (config.server.auth.api_key.enabled && config.output.elasticsearch.hosts.length === 0) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      'server.auth.api_key.enabled needs output.elasticsearch.hosts to verify keys',
      {
        remediation: 'set output.elasticsearch.hosts (and its ssl settings), or turn server.auth.api_key.enabled off',
      },
    );
  }
}
