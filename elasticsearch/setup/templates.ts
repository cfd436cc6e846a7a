import {
  commonMappings,
  fullMappingFeatures,
  logsMappings,
  type MappingFeatures,
  metricsMappings,
  tracesMappings,
} from './mappings';

export { coreMappingFeatures, fullMappingFeatures } from './mappings';

/**
 * Component templates, index templates and lifecycle policies for the APM data streams, for clusters that do
 * not ship APM's own (Elasticsearch < 8.15 without the APM integration, or a test distribution without the
 * apm-data plugin). data_stream is enabled so that `create` into traces-apm-* auto-creates a data stream.
 */
const templateVersion = 3;

const managedMeta = { managed_by: 'apm-sidecar', version: templateVersion };

/**
 * Above the stack's built-in logs-*-* / metrics-*-* templates (100) and below the apm-data plugin's (140), so
 * that after an upgrade to Elasticsearch >= 8.15 APM's own templates take over new backing indices.
 */
const templatePriority = 120;

export interface ComponentTemplate {
  readonly name: string;
  readonly body: {
    readonly template: { readonly settings?: Record<string, unknown>; readonly mappings?: Record<string, unknown> };
    readonly version: number;
    readonly _meta: Record<string, unknown>;
  };
}

export interface IndexTemplate {
  readonly name: string;
  readonly body: {
    readonly index_patterns: string[];
    readonly data_stream: Record<string, never>;
    readonly priority: number;
    readonly composed_of: string[];
    readonly ignore_missing_component_templates: string[];
    readonly template: { readonly settings?: Record<string, unknown>; readonly mappings?: Record<string, unknown> };
    readonly _meta: Record<string, unknown>;
    readonly version: number;
  };
}

export interface LifecyclePolicy {
  readonly name: string;
  readonly body: {
    readonly policy: { readonly phases: Record<string, unknown>; readonly _meta: Record<string, unknown> };
  };
}

/** The data streams APM documents go to, with an example name each (SPEC: Documents and Elasticsearch). */
export const apmDataStreamKinds = [
  {
    template: 'apm-sidecar-traces',
    pattern: 'traces-apm-*',
    type: 'traces',
    dataset: 'apm',
    example: 'traces-apm-default',
  },
  {
    template: 'apm-sidecar-logs-error',
    pattern: 'logs-apm.error-*',
    type: 'logs',
    dataset: 'apm.error',
    example: 'logs-apm.error-default',
  },
  {
    template: 'apm-sidecar-logs-app',
    pattern: 'logs-apm.app.*-*',
    type: 'logs',
    dataset: undefined,
    example: 'logs-apm.app.svc-default',
  },
  {
    template: 'apm-sidecar-metrics-internal',
    pattern: 'metrics-apm.internal-*',
    type: 'metrics',
    dataset: 'apm.internal',
    example: 'metrics-apm.internal-default',
  },
  {
    template: 'apm-sidecar-metrics-app',
    pattern: 'metrics-apm.app.*-*',
    type: 'metrics',
    dataset: undefined,
    example: 'metrics-apm.app.svc-default',
  },
] as const;

type StreamType = (typeof apmDataStreamKinds)[number]['type'];

/** Retention as APM Server's defaults: traces and logs 10 days, metrics 90 days. */
const retention: Record<StreamType, string> = { traces: '10d', logs: '10d', metrics: '90d' };

function lifecyclePolicyName(type: StreamType): string {
  return `apm-sidecar-${type}`;
}

export function apmLifecyclePolicies(): LifecyclePolicy[] {
  return (['traces', 'logs', 'metrics'] as const).map((type) => ({
    name: lifecyclePolicyName(type),
    body: {
      policy: {
        phases: {
          hot: { actions: { rollover: { max_age: '30d', max_primary_shard_size: '50gb' } } },
          delete: { min_age: retention[type], actions: { delete: {} } },
        },
        _meta: { ...managedMeta },
      },
    },
  }));
}

export interface TemplateOptions {
  readonly features?: MappingFeatures;
  /** Set index.lifecycle.name; an unknown setting (and so an error) on a cluster without the ILM module. */
  readonly ilm?: boolean;
}

function component(name: string, template: ComponentTemplate['body']['template']): ComponentTemplate {
  return { name, body: { template, version: templateVersion, _meta: { ...managedMeta } } };
}

export function apmComponentTemplates(options: TemplateOptions = {}): ComponentTemplate[] {
  const features = options.features ?? fullMappingFeatures;
  const components = [
    component('apm-sidecar@mappings', { mappings: commonMappings(features) }),
    component('apm-sidecar-traces@mappings', { mappings: tracesMappings(features) }),
    component('apm-sidecar-logs@mappings', { mappings: logsMappings(features) }),
    component('apm-sidecar-metrics@mappings', { mappings: metricsMappings(features) }),
  ];
  if (options.ilm === true) {
    for (const type of ['traces', 'logs', 'metrics'] as const) {
      components.push(
        component(`apm-sidecar-${type}@lifecycle`, { settings: { 'index.lifecycle.name': lifecyclePolicyName(type) } }),
      );
    }
  }
  return components;
}

/** Index templates, one per APM data stream kind; install after apmComponentTemplates(). */
export function apmIndexTemplates(options: TemplateOptions = {}): IndexTemplate[] {
  return apmDataStreamKinds.map((kind) => {
    const composedOf = [
      'apm-sidecar@mappings',
      `apm-sidecar-${kind.type}@mappings`,
      ...(options.ilm === true ? [`apm-sidecar-${kind.type}@lifecycle`] : []),
    ];
    return {
      name: kind.template,
      body: {
        index_patterns: [kind.pattern],
        data_stream: {},
        priority: templatePriority,
        composed_of: composedOf,
        // Installed alone (a test harness), the index template still works: data streams then map dynamically.
        // setup installs the component templates first, so nothing is missing there.
        ignore_missing_component_templates: composedOf,
        template: {},
        _meta: {
          ...managedMeta,
          description: `APM ${kind.type} data streams (${kind.pattern}), installed by apm-sidecar setup`,
        },
        version: templateVersion,
      },
    };
  });
}
