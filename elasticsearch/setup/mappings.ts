/**
 * Mappings for the APM data streams when the cluster does not ship APM's own templates. Modelled on
 * Elasticsearch's apm-data plugin (apm@mappings, traces-apm@mappings, logs-apm.error@mappings) plus the parts
 * of ecs@mappings APM documents rely on: identifiers and names as keyword, durations and timestamps in
 * microseconds as long, labels as keyword and numeric_labels as scaled_float.
 */

/** Field types that live in optional modules; a minimal distribution (the ES test zip) has none of them. */
export interface MappingFeatures {
  /** mapper-extras module: scaled_float, match_only_text. */
  readonly mapperExtras: boolean;
  /** constant-keyword x-pack module. */
  readonly constantKeyword: boolean;
  /** x-pack-analytics module: the histogram field type. */
  readonly histogram: boolean;
  /** x-pack-aggregate-metric module: aggregate_metric_double. */
  readonly aggregateMetric: boolean;
}

export const fullMappingFeatures: MappingFeatures = {
  mapperExtras: true,
  constantKeyword: true,
  histogram: true,
  aggregateMetric: true,
};
/** What the integ-test distribution (transport + x-pack core + security only) supports. */
export const coreMappingFeatures: MappingFeatures = {
  mapperExtras: false,
  constantKeyword: false,
  histogram: false,
  aggregateMetric: false,
};

type Mapping = Record<string, unknown>;

const keyword: Mapping = { type: 'keyword', ignore_above: 1024 };
const long: Mapping = { type: 'long' };
const notIndexedObject: Mapping = { type: 'object', dynamic: false };

function text(features: MappingFeatures): Mapping {
  return features.mapperExtras ? { type: 'match_only_text' } : { type: 'text', norms: false };
}

function keywordWithText(features: MappingFeatures): Mapping {
  return { ...keyword, fields: { text: text(features) } };
}

function scaled(features: MappingFeatures, scalingFactor: number): Mapping {
  // double keeps the values exactly enough where scaled_float is unavailable; only disk use differs.
  return features.mapperExtras ? { type: 'scaled_float', scaling_factor: scalingFactor } : { type: 'double' };
}

function constant(features: MappingFeatures, value?: string): Mapping {
  if (!features.constantKeyword) return { type: 'keyword' };
  return value === undefined ? { type: 'constant_keyword' } : { type: 'constant_keyword', value };
}

/** Shared by every APM data stream (apm@mappings and the ECS fields of APM documents). */
export function commonMappings(features: MappingFeatures): Mapping {
  return {
    date_detection: false,
    dynamic: true,
    dynamic_templates: [
      { numeric_labels: { path_match: 'numeric_labels.*', mapping: scaled(features, 1000000) } },
      { labels: { path_match: 'labels.*', mapping: { type: 'keyword' } } },
      { names_with_text: { match: 'name', match_mapping_type: 'string', mapping: keywordWithText(features) } },
      { strings_as_keyword: { match_mapping_type: 'string', mapping: keyword } },
    ],
    properties: {
      '@timestamp': { type: 'date' },
      'data_stream.type': constant(features),
      'data_stream.dataset': constant(features),
      'data_stream.namespace': constant(features),
      'timestamp.us': long,
      'processor.event': keyword,
      'trace.id': keyword,
      'transaction.id': keyword,
      'span.id': keyword,
      'parent.id': keyword,
      'event.outcome': keyword,
      'event.ingested': { type: 'date' },
      'service.name': keyword,
      'service.environment': keyword,
      'service.version': keyword,
      'service.node.name': keyword,
      'agent.name': keywordWithText(features),
      'agent.version': keyword,
      'host.ip': { type: 'ip' },
      'client.ip': { type: 'ip' },
      'source.ip': { type: 'ip' },
      'observer.version': keyword,
      'http.response.status_code': long,
      'url.original': keywordWithText(features),
      'url.full': keywordWithText(features),
      message: text(features),
      labels: { type: 'object' },
      numeric_labels: { type: 'object' },
    },
  };
}

/** traces-apm@mappings: transactions and spans. */
export function tracesMappings(features: MappingFeatures): Mapping {
  return {
    properties: {
      'event.success_count': { type: 'byte', index: false },
      'http.request.headers': notIndexedObject,
      'http.response.headers': notIndexedObject,
      'http.request.cookies': notIndexedObject,
      'http.request.body': notIndexedObject,
      'span.duration.us': long,
      'span.representative_count': { ...scaled(features, 1000), index: false },
      'span.stacktrace': notIndexedObject,
      'span.name': keywordWithText(features),
      'span.type': keyword,
      'span.subtype': keyword,
      'transaction.custom': notIndexedObject,
      'transaction.duration.us': long,
      'transaction.representative_count': { ...scaled(features, 1000), index: false },
      'transaction.name': keywordWithText(features),
      'transaction.type': keyword,
      'transaction.sampled': { type: 'boolean' },
    },
  };
}

/** logs-apm.error@mappings (and application logs). */
export function logsMappings(features: MappingFeatures): Mapping {
  return {
    properties: {
      'error.id': keyword,
      'error.grouping_key': keyword,
      'error.culprit': keyword,
      'error.custom': notIndexedObject,
      'error.exception.attributes': notIndexedObject,
      'error.exception.stacktrace': notIndexedObject,
      'error.exception.message': text(features),
      'error.exception.type': keyword,
      'error.log.stacktrace': notIndexedObject,
      'error.log.message': text(features),
      'http.request.headers': notIndexedObject,
      'http.response.headers': notIndexedObject,
      'http.request.cookies': notIndexedObject,
      'http.request.body': notIndexedObject,
      'log.level': keyword,
    },
  };
}

/**
 * The two dynamic templates APM metrics name per document in the bulk action (`dynamic_templates`), as APM's own
 * metrics templates define them: `histogram` (OTLP histograms, intake v2 histogram samples: {values, counts}) and
 * `summary` (OTLP summaries: {value_count, sum}). Without a match condition they apply only when named. A cluster
 * without the field type keeps the value in _source (an object that is not indexed, or its two numbers), so the
 * document is indexed rather than refused.
 */
function metricDynamicTemplates(features: MappingFeatures): Mapping[] {
  const histogram = features.histogram ? { type: 'histogram' } : { type: 'object', enabled: false };
  const summary = features.aggregateMetric
    ? { type: 'aggregate_metric_double', metrics: ['sum', 'value_count'], default_metric: 'value_count' }
    : { type: 'object', properties: { sum: { type: 'double' }, value_count: long } };
  return [{ histogram: { mapping: histogram } }, { summary: { mapping: summary } }];
}

/** metrics-apm.*: metricset identity; gauge and counter values map dynamically (long/float). */
export function metricsMappings(features: MappingFeatures): Mapping {
  return {
    dynamic_templates: metricDynamicTemplates(features),
    properties: {
      'metricset.name': keyword,
      'metricset.interval': keyword,
      'transaction.duration.us': long,
      'span.self_time.sum.us': long,
      'span.self_time.count': long,
    },
  };
}
