import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import { runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import { SidecarError } from '../../core/errors';
import { type UpstreamSettings, upstreamSettingsFrom } from '../passthrough/upstream';
import { AgentConfigEndpoint } from './endpoint';
import { FileAgentConfigSource } from './file-source';
import type { AgentConfigSource } from './source';
import { UpstreamAgentConfigSource } from './upstream-source';

export { AgentConfigEndpoint } from './endpoint';

export interface AgentConfigDependencies {
  readonly logger: Logger;
  readonly registry?: Registry;
  /** Shared with pass-through when the proxy already built it; built from config.upstream otherwise. */
  readonly upstream?: UpstreamSettings | null;
  /** For tests; the proxy's own cluster credential (output.elasticsearch.*) otherwise. */
  readonly esClient?: Client;
}

/**
 * The Elasticsearch source and client, loaded only when this source is configured: @elastic/elasticsearch is the
 * largest module a proxy would otherwise hold (~10 MB of RSS). A synchronous require, because import() stays an
 * ES module import under Node16 resolution, which jest's CommonJS VM cannot run.
 */
function loadElasticsearchSource(): Pick<typeof import('./elasticsearch-source'), 'ElasticsearchAgentConfigSource'> &
  Pick<typeof import('../../elasticsearch/client'), 'createEsClient'> {
  /* eslint-disable @typescript-eslint/no-require-imports -- see above */
  const { ElasticsearchAgentConfigSource } =
    require('./elasticsearch-source') as typeof import('./elasticsearch-source');
  const { createEsClient } = require('../../elasticsearch/client') as typeof import('../../elasticsearch/client');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { ElasticsearchAgentConfigSource, createEsClient };
}

function missing(key: string, source: string, fix: string): SidecarError {
  return new SidecarError('SIDECAR_ERR_CONFIG_INVALID', `agent_config.source is ${source} but ${key} is not set`, {
    remediation: fix,
  });
}

/**
 * Refuses an agent_config.source whose settings are not set (the file, the cluster's hosts, upstream.url). The
 * proxy runs it as it builds the endpoint and `apm-sidecar check` through assertProxyStartable.
 */
export function assertAgentConfigSourceSet(
  config: SidecarConfig,
  has: { readonly upstream: boolean; readonly esClient: boolean },
): void {
  const { source, file } = config.agent_config;
  if (source === 'file' && (file === null || file === ''))
    throw missing(
      'agent_config.file',
      'file',
      'set agent_config.file (APM_SIDECAR_AGENT_CONFIG_FILE) to a YAML or JSON file',
    );
  if (source === 'elasticsearch' && !has.esClient && config.output.elasticsearch.hosts.length === 0)
    throw missing(
      'output.elasticsearch.hosts',
      'elasticsearch',
      'set output.elasticsearch.hosts and a credential with read on .apm-agent-configuration',
    );
  if (source === 'upstream' && !has.upstream)
    throw missing(
      'upstream.url',
      'upstream',
      'set upstream.url (APM_SIDECAR_UPSTREAM_URL) to an APM Server with central configuration on',
    );
}

function sourceFor(config: SidecarConfig, periodMs: number, deps: AgentConfigDependencies): AgentConfigSource | null {
  const logger = deps.logger.child({ component: 'agent-config' });
  const upstream =
    config.agent_config.source !== 'upstream'
      ? null
      : (deps.upstream ?? upstreamSettingsFrom(config.upstream, runtimeConfig(config).ms['upstream.timeout']));
  assertAgentConfigSourceSet(config, { upstream: upstream !== null, esClient: deps.esClient !== undefined });
  switch (config.agent_config.source) {
    case 'none':
      return null;
    case 'file':
      return new FileAgentConfigSource(config.agent_config.file ?? '', periodMs, logger);
    case 'elasticsearch': {
      const owned = deps.esClient === undefined;
      const { ElasticsearchAgentConfigSource, createEsClient } = loadElasticsearchSource();
      return new ElasticsearchAgentConfigSource(
        deps.esClient ?? createEsClient(runtimeConfig(config).elasticsearch),
        periodMs,
        logger,
        owned,
      );
    }
    case 'upstream':
      // Never null here: assertAgentConfigSourceSet refused that.
      return upstream === null ? null : new UpstreamAgentConfigSource(upstream, periodMs, logger);
  }
}

/** /config/v1/agents as configured by agent_config.*; throws SIDECAR_ERR_CONFIG_INVALID before any socket opens. */
export function createAgentConfigEndpoint(config: SidecarConfig, deps: AgentConfigDependencies): AgentConfigEndpoint {
  const periodMs = runtimeConfig(config).ms['agent_config.cache.expiration'];
  return new AgentConfigEndpoint({
    source: sourceFor(config, periodMs, deps),
    cacheExpirationMs: periodMs,
    ...(deps.registry === undefined ? {} : { registry: deps.registry }),
  });
}
