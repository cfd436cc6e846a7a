import { errors } from '@elastic/elasticsearch';

import { classifyEsError } from '../../../elasticsearch/errors';
import { parseHasPrivileges, privilegeRemediation } from '../../../elasticsearch/privileges';
import { parseCapabilities } from '../../../elasticsearch/setup/runner';
import { parseIndexTemplates, providedByCluster } from '../../../elasticsearch/setup/steps';
import {
  apmComponentTemplates,
  apmIndexTemplates,
  coreMappingFeatures,
  fullMappingFeatures,
} from '../../../elasticsearch/setup/templates';

const ctx = { credential: 'output.elasticsearch' } as const;

describe('classifyEsError', () => {
  it.each([
    ['self-signed certificate in certificate chain', 'SIDECAR_ERR_ES_TLS'],
    ['Server certificate CA fingerprint does not match the value configured in caFingerprint', 'SIDECAR_ERR_ES_TLS'],
    ["Hostname/IP does not match certificate's altnames", 'SIDECAR_ERR_ES_TLS'],
    ['connect ECONNREFUSED 127.0.0.1:9200', 'SIDECAR_ERR_ES_UNAVAILABLE'],
  ])('%s -> %s', (message, code) => {
    expect(classifyEsError(new errors.ConnectionError(message), ctx).code).toBe(code);
  });

  it('401, 403 and a non-Elasticsearch 404 each get their own code', () => {
    const response = (statusCode: number, product?: string) =>
      new errors.ResponseError({
        statusCode,
        body: { error: { reason: 'why' } },
        headers: product === undefined ? {} : { 'x-elastic-product': product },
        warnings: null,
        meta: {} as never,
      });
    expect(classifyEsError(response(401, 'Elasticsearch'), ctx).code).toBe('SIDECAR_ERR_ES_AUTH');
    expect(classifyEsError(response(403, 'Elasticsearch'), ctx).code).toBe('SIDECAR_ERR_ES_PRIVILEGES');
    expect(classifyEsError(response(404), ctx).code).toBe('SIDECAR_ERR_ES_NOT_ELASTICSEARCH');
    expect(classifyEsError(response(400, 'Elasticsearch'), ctx).code).toBe('SIDECAR_ERR_ES_REQUEST_REJECTED');
  });
});

describe('privileges', () => {
  it('names what is missing and the grant that fixes it', () => {
    const missing = parseHasPrivileges({
      cluster: { monitor: false },
      index: { 'traces-apm*': { create_doc: false, auto_configure: true } },
    });
    expect(missing).toEqual([
      { kind: 'cluster', privilege: 'monitor' },
      { kind: 'index', privilege: 'create_doc', resource: 'traces-apm*' },
    ]);
    expect(privilegeRemediation(missing, 'apm_sidecar_writer')).toContain(
      'grant monitor on the cluster; create_doc on traces-apm*',
    );
    expect(() => parseHasPrivileges({ cluster: { monitor: 'yes' } })).toThrow(
      /_has_privileges response: cluster.monitor must be boolean/,
    );
  });
});

describe('templates', () => {
  it('uses only core field types on a minimal cluster and sets lifecycle only with ILM', () => {
    const core = JSON.stringify(apmComponentTemplates({ features: coreMappingFeatures }));
    expect(core).not.toMatch(/scaled_float|constant_keyword|match_only_text|lifecycle|histogram"}|aggregate_metric/);
    expect(JSON.stringify(apmComponentTemplates({ ilm: true }))).toContain('index.lifecycle.name');
    expect(apmIndexTemplates().every((t) => t.body.priority < 140 && t.body.priority > 100)).toBe(true);
  });

  it('defines the histogram and summary dynamic templates the forwarder names in bulk actions, on any cluster', () => {
    const named = (features: typeof coreMappingFeatures): Record<string, unknown> => {
      const metrics = apmComponentTemplates({ features }).find((c) => c.name === 'apm-sidecar-metrics@mappings');
      const list: unknown = metrics?.body.template.mappings?.dynamic_templates;
      const out: Record<string, unknown> = {};
      for (const entry of Array.isArray(list) ? (list as unknown[]) : []) Object.assign(out, entry);
      return out;
    };
    expect(named(fullMappingFeatures)).toEqual({
      histogram: { mapping: { type: 'histogram' } },
      summary: {
        mapping: { type: 'aggregate_metric_double', metrics: ['sum', 'value_count'], default_metric: 'value_count' },
      },
    });
    // The test distribution has neither type: the names still resolve, the values stay in _source.
    expect(named(coreMappingFeatures)).toEqual({
      histogram: { mapping: { type: 'object', enabled: false } },
      summary: { mapping: { type: 'object', properties: { sum: { type: 'double' }, value_count: { type: 'long' } } } },
    });
  });

  it('detects the APM templates a cluster provides (apm-data) and ignores its own', () => {
    const found = parseIndexTemplates({
      index_templates: [
        { name: 'traces-apm@template', index_template: { index_patterns: ['traces-apm-*'], priority: 140 } },
        {
          name: 'apm-sidecar-logs-error',
          index_template: { index_patterns: ['logs-apm.error-*'], priority: 120, _meta: { managed_by: 'apm-sidecar' } },
        },
      ],
    });
    expect([...providedByCluster(found)]).toEqual([['traces-apm-default', 'traces-apm@template']]);
  });

  it('reads ILM and field-type modules present on every node', () => {
    const caps = parseCapabilities({
      nodes: {
        a: { modules: [{ name: 'x-pack-ilm' }, { name: 'mapper-extras' }, { name: 'x-pack-analytics' }] },
        b: { modules: [{ name: 'x-pack-ilm' }, { name: 'x-pack-analytics' }] },
      },
    });
    expect(caps).toEqual({
      ilm: true,
      features: { mapperExtras: false, constantKeyword: false, histogram: true, aggregateMetric: false },
    });
  });
});
