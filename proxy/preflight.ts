import { runtimeConfig } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { resolveTlsSettings, type TlsSettings } from '../config/tls-settings';
import { SidecarError } from '../core/errors';
import type { Logger } from '../core/log';
import { assertAgentConfigSourceSet } from './agent-config';
import { assertApiKeysVerifiable } from './auth/api-keys-verifiable';
import { assertCredentialsProtected } from './auth/authenticate';
import { upstreamSettingsFrom } from './passthrough/upstream';
import { loadSecureContextOptions } from './tls';

/**
 * Everything the proxy refuses to start with that needs no network: TLS settings, the certificate, key and
 * client CA files readable and the key matching its certificate, credentials not sent in clear text, gRPC only
 * over TLS, upstream.* usable, the settings agent_config.source and API keys need set. The proxy runs it before
 * it connects to anything, and `apm-sidecar check` runs this same function.
 */
export function assertProxyStartable(config: SidecarConfig, logger: Logger): TlsSettings {
  const s = config.server;
  const tls = resolveTlsSettings(s.ssl, runtimeConfig(config).ms['server.ssl.handshake_timeout']);
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
  assertApiKeysVerifiable(config);
  const upstream = upstreamSettingsFrom(config.upstream, runtimeConfig(config).ms['upstream.timeout']);
  assertAgentConfigSourceSet(config, { upstream: upstream !== null, esClient: false });
  if (s.otlp.grpc && !tls.enabled) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      'server.otlp.grpc needs TLS (HTTP/2 is negotiated by ALPN on the TLS intake port)',
      {
        remediation:
          'configure server.ssl.certificate and server.ssl.key, or set server.otlp.grpc: false (APM_SIDECAR_OTLP_GRPC)',
      },
    );
  }
  return tls;
}
