import { SidecarError } from '../core/errors';

/** SIDECAR_ERR_CONFIG_INVALID; the default remediation suits a message that names the key to change. */
export function invalidConfig(
  message: string,
  remediation = 'fix the key named above in the config file or environment; see docs/configuration.md',
): SidecarError {
  return new SidecarError('SIDECAR_ERR_CONFIG_INVALID', message, { remediation });
}
