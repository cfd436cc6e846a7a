import type { Schema } from 'convict';

/** output: where forwarders write documents (Elasticsearch, or ndjson files). */
export interface OutputConfig {
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
}

export const outputSchema: Schema<OutputConfig> = {
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
        format: 'sha256-fingerprint',
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
      doc: 'A bulk request is sent once its body reaches this many bytes (uncompressed). 5 MiB holds about 4000 APM documents, about 300 KiB gzip: fewer, larger bulks cost Elasticsearch and the forwarder less per document (APM Server sends thousands per bulk).',
      format: 'nat',
      default: 5 * 1024 * 1024,
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
};
