import type { SidecarConfig } from '../config/schema';
import type { Logger } from '../core/log';
import { assertCredentialsProtected } from './auth/authenticate';
import { loadSecureContextOptions, resolveTlsSettings, type TlsSettings } from './tls';

/**
 * Everything the proxy refuses to start with that needs no network: TLS settings, the certificate, key and
 * client CA files readable and the key matching its certificate, credentials not sent in clear text. The proxy
 * runs it before it connects to anything, and `apm-sidecar check` runs this same function.
 */
export function assertProxyStartable(config: SidecarConfig, logger: Logger): TlsSettings {
  const s = config.server;
  const tls = resolveTlsSettings(s.ssl);
  if (tls.enabled) loadSecureContextOptions(tls);
  assertCredentialsProtected(
    {
      secretTokens: s.auth.secret_tokens,
      apiKeyEnabled: s.auth.api_key.enabled,
      allowInsecure: s.auth.allow_insecure,
      tlsEnabled: tls.enabled,
    },
    logger,
  );
  return tls;
}
