/**
 * Index templates for the APM data streams, for clusters that do not ship APM's own (Elasticsearch < 8.15, or
 * a test distribution without the apm-data plugin). Placeholder to be completed by the security/setup work:
 * data_stream enabled so that `create` into traces-apm-* auto-creates a data stream.
 */
export interface IndexTemplate {
  readonly name: string;
  readonly body: {
    readonly index_patterns: string[];
    readonly data_stream: Record<string, never>;
    readonly priority: number;
    readonly template: { readonly settings?: Record<string, unknown>; readonly mappings?: Record<string, unknown> };
    readonly _meta: Record<string, unknown>;
    readonly version: number;
  };
}

export const templateVersion = 1;

const baseMappings = {
  dynamic_templates: [
    { labels: { path_match: 'labels.*', mapping: { type: 'keyword' } } },
    { numeric_labels: { path_match: 'numeric_labels.*', mapping: { type: 'scaled_float', scaling_factor: 1000000 } } },
    { strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
  ],
  properties: {
    '@timestamp': { type: 'date' },
    data_stream: { properties: { type: { type: 'constant_keyword' }, dataset: { type: 'constant_keyword' }, namespace: { type: 'constant_keyword' } } },
  },
};

function template(name: string, pattern: string): IndexTemplate {
  return {
    name,
    body: {
      index_patterns: [pattern],
      data_stream: {},
      priority: 210,
      template: { mappings: baseMappings },
      _meta: { managed_by: 'apm-sidecar', version: templateVersion },
      version: templateVersion,
    },
  };
}

export function apmIndexTemplates(): IndexTemplate[] {
  return [
    template('apm-sidecar-traces', 'traces-apm*'),
    template('apm-sidecar-logs', 'logs-apm*'),
    template('apm-sidecar-metrics', 'metrics-apm*'),
  ];
}
