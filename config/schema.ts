import type { Schema } from 'convict';

/**
 * The whole configuration of apm-sidecar. Keys follow apm-server.yml naming; sizes are bytes, durations are
 * strings ("30s"). Every key can be set from the environment: the SPEC's names where it gives one, otherwise
 * APM_SIDECAR_<KEY_PATH> (see docs/configuration.md, generated from this file). Secrets may also come from
 * <ENV>_FILE.
 */
/** A secret token: the token alone (its identity is a short hash of it), or with a name that is its identity. */
export type SecretTokenEntry = string | { readonly name: string; readonly token: string };

export interface SidecarConfig {
  server: {
    host: string;
    auth: {
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
    };
    otlp: { grpc: boolean };
    rum: {
      enabled: boolean;
      allow_origins: string[];
      allow_headers: string[];
      response_headers: Record<string, string>;
      library_pattern: string;
      exclude_from_grouping: string;
      source_mapping: { enabled: boolean; cache: { expiration: string; max_entries: number }; index_pattern: string };
    };
    ssl: {
      enabled: boolean | null;
      certificate: string | null;
      key: string | null;
      key_passphrase: string | null;
      certificate_authorities: string[];
      client_authentication: 'none' | 'optional' | 'required';
      supported_protocols: string[];
      cipher_suites: string[];
      handshake_timeout: string;
      reload_interval: string;
    };
    allowed_networks: string[];
    trusted_proxies: string[];
    max_event_size: number;
    max_request_size: number;
    max_inflight_bytes: number;
    max_connections: number;
    max_header_size: number;
    read_timeout: string;
    idle_timeout: string;
    shutdown_timeout: string;
  };
  admin: { host: string };
  queue: {
    redis: { url: string | null; command_timeout: string };
    name: string;
    durability: 'applied' | 'fsync' | 'replicated';
    replicas: number;
    high_water_mark: { jobs: number; bytes: number };
    retention: { completed: number };
    dead_letter: { max_entries: number; max_age: string; when_full: 'block' | 'drop_oldest' };
  };
  output: {
    elasticsearch: {
      hosts: string[];
      username: string | null;
      password: string | null;
      api_key: string | null;
      timeout: string;
      ssl: {
        certificate_authorities: string[];
        ca_trusted_fingerprint: string | null;
        verification_mode: 'full' | 'certificate' | 'none';
        certificate: string | null;
        key: string | null;
      };
      flush_bytes: number;
      flush_interval: string;
      compression_level: number;
      max_requests: number;
      backoff: { init: string; max: string };
    };
    file: { rotate_bytes: number };
  };
  forwarder: { concurrency: number; max_inflight_bytes: number };
  data_streams: { namespace: string };
  agent_config: {
    source: 'none' | 'elasticsearch' | 'file' | 'upstream';
    file: string | null;
    cache: { expiration: string };
  };
  upstream: {
    url: string | null;
    secret_token: string | null;
    api_key: string | null;
    timeout: string;
    x_forwarded_for: boolean;
    ssl: { certificate_authorities: string[] };
  };
  path: { data: string };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Only `apm-sidecar setup` reads this: the admin credential, never given to the proxy or forwarders. */
  setup: { elasticsearch: { username: string | null; password: string | null; api_key: string | null } };
}

export const schema: Schema<SidecarConfig> = {
  server: {
    host: {
      doc: 'Address the intake listens on, host:port. Agents send to https://<this>.',
      format: 'host-port',
      default: '127.0.0.1:8200',
      env: 'APM_SIDECAR_HOST',
    },
    auth: {
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
    },
    otlp: {
      grpc: {
        doc: 'Also serve OTLP over gRPC (the three Export services, HTTP/2 negotiated by ALPN) on the TLS intake port; HTTP/1.1 keeps serving intake v2 and OTLP/HTTP. Needs TLS. Clients that offer h2 (curl) then talk HTTP/2 and get only gRPC: use --http1.1.',
        format: Boolean,
        default: false,
        env: 'APM_SIDECAR_OTLP_GRPC',
      },
    },
    rum: {
      enabled: {
        doc: 'Serve /intake/v2/rum/events and /intake/v3/rum/events (Elastic\'s RUM agent). Off: 403 "RUM endpoint is disabled", as APM Server.',
        format: Boolean,
        default: false,
        env: 'APM_SIDECAR_RUM_ENABLED',
      },
      allow_origins: {
        doc: 'Origins (Origin header) allowed to send RUM data; globs with * and ?. ["*"]: any.',
        format: 'string-list',
        default: ['*'],
        env: 'APM_SIDECAR_RUM_ALLOW_ORIGINS',
      },
      allow_headers: {
        doc: 'Request headers allowed in CORS requests besides Content-Type, Content-Encoding and Accept.',
        format: 'string-list',
        default: [],
        env: 'APM_SIDECAR_RUM_ALLOW_HEADERS',
      },
      response_headers: {
        doc: 'Headers added to every RUM response, as {"Name": "value"} (env: a JSON object).',
        format: 'header-map',
        default: {},
      },
      library_pattern: {
        doc: 'Regular expression: stack frames whose (source-mapped) file name matches are library frames.',
        format: 'regex-string',
        default: 'node_modules|bower_components|~',
      },
      exclude_from_grouping: {
        doc: 'Regular expression: stack frames whose (source-mapped) file name matches are left out of error.grouping_key.',
        format: 'regex-string',
        default: '^/webpack',
      },
      source_mapping: {
        enabled: {
          doc: "Apply source maps (uploaded through Kibana into .apm-source-map) to RUM stack frames. The forwarder's credential then needs read on the index (setup grants it).",
          format: Boolean,
          default: true,
          env: 'APM_SIDECAR_RUM_SOURCE_MAPPING_ENABLED',
        },
        cache: {
          expiration: {
            doc: 'How long a fetched source map (or its absence) is kept before it is looked up again.',
            format: 'duration',
            default: '5m',
          },
          max_entries: {
            doc: "Most source maps kept in a forwarder's memory (least recently used evicted).",
            format: 'nat',
            default: 100,
          },
        },
        index_pattern: {
          doc: 'Index holding the source maps.',
          format: String,
          default: '.apm-source-map',
        },
      },
    },
    ssl: {
      enabled: {
        doc: 'Serve HTTPS. Unset (null) means: on when a certificate is configured.',
        format: 'optional-boolean',
        default: null,
        env: 'APM_SIDECAR_SSL_ENABLED',
      },
      certificate: {
        doc: 'Path to the PEM server certificate (chain). Reloaded when the file changes and on SIGHUP.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SSL_CERTIFICATE',
      },
      key: {
        doc: 'Path to the PEM private key of the certificate.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SSL_KEY',
      },
      key_passphrase: {
        doc: 'Passphrase of an encrypted private key.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SSL_KEY_PASSPHRASE',
        sensitive: true,
      },
      certificate_authorities: {
        doc: 'PEM files of CAs that sign client certificates (used with client_authentication).',
        format: 'string-list',
        default: [],
        env: 'APM_SIDECAR_SSL_CERTIFICATE_AUTHORITIES',
      },
      client_authentication: {
        doc: 'Client certificates: none, optional (verified when sent), required.',
        format: ['none', 'optional', 'required'],
        default: 'none',
        env: 'APM_SIDECAR_SSL_CLIENT_AUTHENTICATION',
      },
      supported_protocols: {
        doc: 'TLS versions offered: TLSv1.2 and/or TLSv1.3. Older versions are refused at startup.',
        format: 'string-list',
        default: ['TLSv1.2', 'TLSv1.3'],
      },
      cipher_suites: {
        doc: 'TLS 1.2 cipher suites offered, OpenSSL names, most preferred first. The default is ECDHE key exchange with AEAD ciphers only (forward secrecy, as Go and so APM Server offer by default). TLS 1.3 suites are always the three AEAD ones. Unknown names are refused at startup.',
        format: 'string-list',
        default: [
          'ECDHE-ECDSA-AES128-GCM-SHA256',
          'ECDHE-RSA-AES128-GCM-SHA256',
          'ECDHE-ECDSA-AES256-GCM-SHA384',
          'ECDHE-RSA-AES256-GCM-SHA384',
          'ECDHE-ECDSA-CHACHA20-POLY1305',
          'ECDHE-RSA-CHACHA20-POLY1305',
        ],
      },
      handshake_timeout: {
        doc: 'A connection that has not completed its TLS handshake this long after it was accepted is closed (a client that connects and sends nothing, or trickles its hello).',
        format: 'duration',
        default: '5s',
      },
      reload_interval: {
        doc: 'How often the certificate, key and CA files are checked for changes (a changed pair is served to new connections). 0s: only on SIGHUP.',
        format: 'duration',
        default: '1s',
      },
    },
    allowed_networks: {
      doc: 'CIDR blocks (IPv4 and IPv6) allowed to connect; others get 403 before their body is read. Empty: any.',
      format: 'cidr-list',
      default: [],
      env: 'APM_SIDECAR_ALLOWED_NETWORKS',
    },
    trusted_proxies: {
      doc: 'CIDR blocks (IPv4 and IPv6) of reverse proxies in front of apm-sidecar whose X-Forwarded-For / Forwarded headers are believed. From any other peer those headers are ignored and rebuilt from the real peer address. Empty (default): trust no one.',
      format: 'cidr-list',
      default: [],
      env: 'APM_SIDECAR_TRUSTED_PROXIES',
    },
    max_event_size: {
      doc: 'Largest accepted event (one ndjson line, decompressed), in bytes.',
      format: 'nat',
      default: 307200,
    },
    max_request_size: {
      doc: 'Largest accepted request body after decompression, in bytes; bounds a decompression bomb.',
      format: 'nat',
      default: 67108864,
    },
    max_inflight_bytes: {
      doc: 'Decompressed intake bytes held in memory at once across all requests (lines being judged, partial lines, decompressor output). A request that would go beyond it is answered 503 + Retry-After, so many concurrent large or compressed bodies cannot exhaust memory. 0: no global bound.',
      format: 'nat',
      default: 33554432,
    },
    max_connections: {
      doc: "Most connections open at once on the intake listener (as APM Server's max_connections); more are closed at once, before TLS. 0: no limit.",
      format: 'nat',
      default: 1024,
    },
    max_header_size: {
      doc: 'Largest request head (request line and headers), in bytes; more is answered 431 and the connection closed.',
      format: 'nat',
      default: 16384,
    },
    read_timeout: {
      doc: 'Longest time to receive a whole request, headers included: a sender that trickles its headers (slowloris) is cut off at this time too.',
      format: 'duration',
      default: '30s',
    },
    idle_timeout: {
      doc: 'Longest silence on a connection, within or between requests.',
      format: 'duration',
      default: '45s',
    },
    shutdown_timeout: {
      doc: 'After SIGTERM, how long in-flight requests (proxy) or bulks (forwarder) may take to finish.',
      format: 'duration',
      default: '30s',
    },
  },
  admin: {
    host: {
      doc: "Address of the admin listener (/healthz, /readyz, /metrics); never the agents' port.",
      format: 'host-port',
      default: '127.0.0.1:8201',
      env: 'APM_SIDECAR_ADMIN_HOST',
    },
  },
  queue: {
    redis: {
      url: {
        doc: 'Redis URL (redis:// or rediss://). Unset: `apm-sidecar start` runs a private redis-server; other commands require it.',
        format: 'optional-url',
        default: null,
        env: 'APM_SIDECAR_REDIS_URL',
        sensitive: true,
      },
      command_timeout: {
        doc: 'How long the proxy waits for Redis to acknowledge a job before answering 503.',
        format: 'duration',
        default: '5s',
      },
    },
    name: {
      doc: 'BullMQ queue name shared by proxies and forwarders.',
      format: String,
      default: 'apm-intake',
      env: 'APM_SIDECAR_QUEUE',
    },
    durability: {
      doc: 'When a 202 is sent: applied (Redis executed the write), fsync (Redis runs appendfsync always, so the write is on disk), replicated (WAIT for queue.replicas replicas).',
      format: ['applied', 'fsync', 'replicated'],
      default: 'applied',
      env: 'APM_SIDECAR_QUEUE_DURABILITY',
    },
    replicas: {
      doc: 'With durability replicated: how many replicas must have the job before the 202.',
      format: 'nat',
      default: 1,
    },
    high_water_mark: {
      jobs: {
        doc: 'Waiting jobs above which intake answers 503 + Retry-After. 0: sized from Redis maxmemory.',
        format: 'nat',
        default: 0,
      },
      bytes: {
        doc: 'Queued payload bytes above which intake answers 503 + Retry-After. 0: half of Redis maxmemory (or 1 GiB when maxmemory is unset).',
        format: 'nat',
        default: 0,
      },
    },
    retention: {
      completed: {
        doc: 'Completed jobs kept in Redis for inspection (BullMQ removeOnComplete count). 0 (the default): a job is removed as it completes. A kept job keeps its whole payload and so holds Redis memory that the byte high-water mark counts only while other jobs wait.',
        format: 'nat',
        default: 0,
      },
    },
    dead_letter: {
      max_entries: {
        doc: 'Most dead-lettered documents kept; what happens beyond it is queue.dead_letter.when_full.',
        format: 'nat',
        default: 100000,
      },
      max_age: {
        doc: 'Dead-lettered documents older than this are dropped, counted in apm_sidecar_dead_letter_dropped_total and logged at error. 0s (the default): no age bound; an acknowledged document is never dropped for its age unless an operator sets one.',
        format: 'duration',
        default: '0s',
      },
      when_full: {
        doc: 'What a full dead-letter queue (max_entries) does. block (the default): forwarders stop taking jobs until there is room, so the queue backs up and the proxy sheds with 503 at its high-water mark; nothing acknowledged is dropped. drop_oldest: the oldest entries are dropped to make room, counted in apm_sidecar_dead_letter_dropped_total and logged at error.',
        format: ['block', 'drop_oldest'],
        default: 'block',
      },
    },
  },
  output: {
    elasticsearch: {
      hosts: {
        doc: 'Elasticsearch URLs (https), used round-robin. Empty: `start` writes documents as ndjson files under path.data.',
        format: 'url-list',
        default: [],
        env: 'APM_SIDECAR_ES_HOSTS',
      },
      username: {
        doc: 'Basic-auth user of the writer (see `apm-sidecar setup`).',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_ES_USERNAME',
      },
      password: {
        doc: 'Basic-auth password.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_ES_PASSWORD',
        sensitive: true,
      },
      api_key: {
        doc: 'API key of the writer, "id:key" or already base64-encoded.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_ES_API_KEY',
        sensitive: true,
      },
      timeout: {
        doc: 'Timeout of one request to Elasticsearch.',
        format: 'duration',
        default: '60s',
      },
      ssl: {
        certificate_authorities: {
          doc: "PEM files of the CAs that sign the cluster's HTTP certificate.",
          format: 'string-list',
          default: [],
          env: 'APM_SIDECAR_ES_CA',
        },
        ca_trusted_fingerprint: {
          doc: "SHA-256 fingerprint of the cluster's CA, hex as Elasticsearch prints it at first start (colons optional).",
          format: 'optional-string',
          default: null,
          env: 'APM_SIDECAR_ES_CA_FINGERPRINT',
        },
        verification_mode: {
          doc: 'full (CA and hostname), certificate (CA only), none (nothing: logs a warning on every start).',
          format: ['full', 'certificate', 'none'],
          default: 'full',
        },
        certificate: {
          doc: 'Client certificate (PEM) for a PKI realm.',
          format: 'optional-string',
          default: null,
        },
        key: {
          doc: 'Private key (PEM) of the client certificate.',
          format: 'optional-string',
          default: null,
        },
      },
      flush_bytes: {
        doc: 'A bulk request is sent once its body reaches this many bytes (uncompressed).',
        format: 'nat',
        default: 1048576,
      },
      flush_interval: {
        doc: 'A bulk request is sent at the latest this long after its first document.',
        format: 'duration',
        default: '1s',
      },
      compression_level: {
        doc: 'gzip level of bulk request bodies: 0 sends them uncompressed, 1 (fastest: about half the CPU of level 6 per MiB) to 9 (smallest).',
        format: 'gzip-level',
        default: 1,
      },
      max_requests: {
        doc: 'Most bulk requests in flight per forwarder. 0: sized from the CPU count (APM Server: 10 per GB of memory).',
        format: 'nat',
        default: 0,
      },
      backoff: {
        init: {
          doc: 'First retry delay of a failed bulk item or request; doubles each attempt, with full jitter.',
          format: 'duration',
          default: '1s',
        },
        max: {
          doc: 'Longest retry delay.',
          format: 'duration',
          default: '60s',
        },
      },
    },
    file: {
      rotate_bytes: {
        doc: 'With no Elasticsearch hosts: size at which the ndjson document file under path.data is rotated.',
        format: 'nat',
        default: 67108864,
      },
    },
  },
  forwarder: {
    concurrency: {
      doc: 'Jobs (intake requests) a forwarder process works on at once; their documents share bulk requests.',
      format: 'nat',
      default: 32,
    },
    max_inflight_bytes: {
      doc: 'Decompressed intake bytes of the jobs a forwarder process works on at once, in bytes (memory grows several times this). Jobs wait in order for room; a job larger than this runs alone. 0: bounded by forwarder.concurrency only.',
      format: 'nat',
      default: 32 * 1024 * 1024,
    },
  },
  data_streams: {
    namespace: {
      doc: 'Namespace of the APM data streams (traces-apm-<namespace> ...).',
      format: String,
      default: 'default',
      env: 'APM_SIDECAR_NAMESPACE',
    },
  },
  agent_config: {
    source: {
      doc: 'Where /config/v1/agents reads central agent configuration: none (403, as APM Server without Kibana), elasticsearch (.apm-agent-configuration), file, upstream.',
      format: ['none', 'elasticsearch', 'file', 'upstream'],
      default: 'none',
      env: 'APM_SIDECAR_AGENT_CONFIG_SOURCE',
    },
    file: {
      doc: 'With source file: YAML/JSON list of {service: {name, environment}, settings}. Reloaded when it changes.',
      format: 'optional-string',
      default: null,
    },
    cache: {
      expiration: {
        doc: 'How long an agent configuration is cached, and the max-age sent to agents.',
        format: 'duration',
        default: '30s',
      },
    },
  },
  upstream: {
    url: {
      doc: 'APM Server or Kibana to which paths apm-sidecar does not serve are passed (after authentication).',
      format: 'optional-url',
      default: null,
      env: 'APM_SIDECAR_UPSTREAM_URL',
    },
    secret_token: {
      doc: "Secret token sent to the upstream in place of the agent's credential.",
      format: 'optional-string',
      default: null,
      sensitive: true,
    },
    api_key: {
      doc: "API key sent to the upstream in place of the agent's credential.",
      format: 'optional-string',
      default: null,
      sensitive: true,
    },
    timeout: {
      doc: 'How long the upstream may take to answer; then 504.',
      format: 'duration',
      default: '30s',
    },
    x_forwarded_for: {
      doc: "Tell the upstream the agent's address: X-Forwarded-For and Forwarded on passed-through requests, rebuilt from the connection's real peer (a client's own forwarding headers are kept only when it is one of server.trusted_proxies; otherwise they are dropped, as are cookies, whether this is on or off).",
      format: Boolean,
      default: false,
    },
    ssl: {
      certificate_authorities: {
        doc: "PEM files of the CAs that sign the upstream's certificate (system CAs when empty).",
        format: 'string-list',
        default: [],
      },
    },
  },
  path: {
    data: {
      doc: 'Data directory: `start` keeps its redis-server data, generated CA, certificate and token here, and the ndjson output.',
      format: String,
      default: './data',
      env: 'APM_SIDECAR_DATA',
    },
  },
  log: {
    level: {
      doc: 'Log level: fatal, error, warn, info, debug, trace, silent.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'APM_SIDECAR_LOG_LEVEL',
    },
  },
  setup: {
    elasticsearch: {
      username: {
        doc: 'Admin user for `apm-sidecar setup` only (roles, templates, lifecycle policy, credentials). Hosts and TLS come from output.elasticsearch. Unset: setup uses the output.elasticsearch credential.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SETUP_ES_USERNAME',
      },
      password: {
        doc: 'Password of the setup admin user.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SETUP_ES_PASSWORD',
        sensitive: true,
      },
      api_key: {
        doc: 'API key ("id:key" or base64) for `apm-sidecar setup`, in place of username/password.',
        format: 'optional-string',
        default: null,
        env: 'APM_SIDECAR_SETUP_ES_API_KEY',
        sensitive: true,
      },
    },
  },
};
