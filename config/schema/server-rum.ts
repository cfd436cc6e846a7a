import type { Schema } from 'convict';

/** server.rum: the browser intake (CORS, source maps). */
export interface ServerRumConfig {
  enabled: boolean;
  allow_origins: string[];
  allow_headers: string[];
  response_headers: Record<string, string>;
  library_pattern: string;
  exclude_from_grouping: string;
  source_mapping: { enabled: boolean; cache: { expiration: string; max_entries: number }; index_pattern: string };
}

export const serverRumSchema: Schema<ServerRumConfig> = {
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
};
