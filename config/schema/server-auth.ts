import type { Schema } from 'convict';

/** A secret token: the token alone (its identity is a short hash of it), or with a name that is its identity. */
export type SecretTokenEntry = string | { readonly name: string; readonly token: string };

/** server.auth: who may send (secret tokens, API keys, anonymous RUM). */
export interface ServerAuthConfig {
  secret_tokens: SecretTokenEntry[];
  secret_tokens_file: string | null;
  allow_insecure: boolean;
  api_key: { enabled: boolean; cache_ttl: string; limit: number; global_limit: number };
  anonymous: {
    enabled: boolean | null;
    allow_agent: string[];
    allow_service: string[];
    rate_limit: { event_limit: number; ip_limit: number };
  };
}

export const serverAuthSchema: Schema<ServerAuthConfig> = {
  secret_tokens: {
    doc: 'Accepted secret tokens (Authorization: Bearer <token>). Several may be active at once so a token can be rotated without downtime. An entry is a token, or {name, token}: logs and jobs name the token by that name, or else by a short hash of it (token-1a2b3c4d), never by the token or its position. Compared in constant time; never logged.',
    format: 'secret-token-list',
    default: [],
    env: 'APM_SIDECAR_SECRET_TOKEN',
    sensitive: true,
  },
  secret_tokens_file: {
    doc: 'A file of secret tokens (one per line or comma-separated; "name token" names one; # comments) used in place of secret_tokens and reloaded without a restart when it changes (checked every server.ssl.reload_interval) and on SIGHUP. Set for you when APM_SIDECAR_SECRET_TOKEN_FILE is used. A file that cannot be read or is empty keeps the previous tokens.',
    format: 'optional-string',
    default: null,
  },
  allow_insecure: {
    doc: 'Allow credentials without TLS. A token sent in clear text protects nothing: this logs a warning on every start.',
    format: Boolean,
    default: false,
  },
  api_key: {
    enabled: {
      doc: 'Accept Elasticsearch API keys (Authorization: ApiKey <base64 id:key>) with the apm application privilege event:write.',
      format: Boolean,
      default: false,
      env: 'APM_SIDECAR_API_KEY_ENABLED',
    },
    cache_ttl: {
      doc: 'How long an API-key verification (success or failure) is cached.',
      format: 'duration',
      default: '1m',
    },
    limit: {
      doc: "Per client address: most distinct API keys per minute that fail verification (or are being verified); that client's further new keys get 429. A key that verifies never counts, so a client sending invalid keys exhausts only its own budget.",
      format: 'nat',
      default: 100,
    },
    global_limit: {
      doc: "Across all clients: most failed (or pending) API-key lookups per minute, for Elasticsearch's sake. Beyond it only clients that sent a failing key in the minute get 429; a client that sent only valid keys is still verified.",
      format: 'nat',
      default: 1000,
    },
  },
  anonymous: {
    enabled: {
      doc: 'Serve requests without an Authorization header on the RUM routes (browsers cannot keep a secret). Unset (null): on exactly when server.rum.enabled is. Only the RUM routes ever take anonymous requests.',
      format: 'optional-boolean',
      default: null,
      env: 'APM_SIDECAR_ANONYMOUS_ENABLED',
    },
    allow_agent: {
      doc: 'Agent names (metadata service.agent.name) an anonymous request may carry; others get 403. Empty: any.',
      format: 'string-list',
      default: ['rum-js', 'js-base'],
      env: 'APM_SIDECAR_ANONYMOUS_ALLOW_AGENT',
    },
    allow_service: {
      doc: 'Service names an anonymous request may carry (metadata and per-event service); others get 403. Empty: any.',
      format: 'string-list',
      default: [],
      env: 'APM_SIDECAR_ANONYMOUS_ALLOW_SERVICE',
    },
    rate_limit: {
      event_limit: {
        doc: 'Events per second one client IP may send anonymously (bursts up to 3x). Each request takes one token; each batch of 10 events waits up to 1s for tokens, else 429 "rate limit exceeded".',
        format: 'nat',
        default: 300,
        env: 'APM_SIDECAR_ANONYMOUS_EVENT_LIMIT',
      },
      ip_limit: {
        doc: "Client IPs whose rate limiters are kept (least recently used evicted; an evicted IP starts with a full bucket). Bounds the limiter's memory.",
        format: 'nat',
        default: 1000,
        env: 'APM_SIDECAR_ANONYMOUS_IP_LIMIT',
      },
    },
  },
};
