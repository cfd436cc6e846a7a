import { type Client, errors } from '@elastic/elasticsearch';
import type { Logger } from 'pino';

import { describeForOperator, SidecarError } from '../../core/errors';
import { closeOnce } from '../../core/lifecycle';
import { outcomeOfStatus } from '../../elasticsearch/outcome';
import {
  type AgentConfigEntry,
  AgentConfigParseError,
  type AgentConfigQuery,
  type AgentConfigResult,
  matchAgentConfig,
  parseAgentConfigEntry,
} from './model';
import { RefreshingCache } from './refreshing-cache';
import type { AgentConfigSource } from './source';

/** Kibana's index for the Agent Configuration page (APM Server's agentcfg.ElasticsearchIndexName). */
const agentConfigIndex = '.apm-agent-configuration';

/** Kibana's UI keeps a handful of configurations; one page this large holds every realistic set. */
const pageSize = 1000;

const readPrivilegeRemediation =
  `grant the output.elasticsearch credential the "read" index privilege on ${agentConfigIndex} ` +
  '(a restricted system index: the role needs allow_restricted_indices: true for it), or set agent_config.source to file or none';

function parseHits(
  hits: ReadonlyArray<{ readonly _id?: string | null; readonly _source?: unknown }>,
): AgentConfigEntry[] {
  return hits.map((hit, index) =>
    parseAgentConfigEntry(hit._source, `${agentConfigIndex} document ${hit._id ?? index}`),
  );
}

function totalOf(total: number | { readonly value: number } | undefined): number | undefined {
  return typeof total === 'number' ? total : total?.value;
}

/** What an agent-config read failure means for the operator: the privilege is named, as the brief of setup needs. */
function classifyReadFailure(err: unknown): SidecarError {
  if (err instanceof SidecarError) return err;
  if (err instanceof AgentConfigParseError) {
    return new SidecarError(
      'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE',
      `a document in ${agentConfigIndex} is not an agent configuration: ${err.message}`,
      {
        cause: err,
        remediation: 'fix or delete the configuration in Kibana (APM > Settings > Agent Configuration)',
      },
    );
  }
  const outcome = err instanceof errors.ResponseError ? outcomeOfStatus(err.statusCode ?? 0) : undefined;
  if (outcome === 'auth' || outcome === 'forbidden') {
    const code = outcome === 'auth' ? 'SIDECAR_ERR_ES_AUTH' : 'SIDECAR_ERR_ES_PRIVILEGES';
    const status = outcome === 'auth' ? 401 : 403;
    return new SidecarError(code, `reading ${agentConfigIndex}: Elasticsearch answered ${status}`, {
      cause: err,
      remediation: readPrivilegeRemediation,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SidecarError('SIDECAR_ERR_ES_UNAVAILABLE', `reading ${agentConfigIndex}: ${message}`, {
    cause: err,
    remediation: 'check that output.elasticsearch.hosts is reachable; agents keep the last configuration they received',
  });
}

/**
 * agent_config.source: elasticsearch. Reads every configuration Kibana wrote, with the proxy's own cluster
 * credential, at most once per cache period however many agents poll; matching happens in memory, as APM
 * Server's ElasticsearchFetcher does it. An unreachable cluster keeps the last good set served.
 */
export class ElasticsearchAgentConfigSource implements AgentConfigSource {
  readonly kind = 'elasticsearch';
  private readonly cache: RefreshingCache<AgentConfigEntry[]>;
  /** The cause last logged while no configuration could be read; undefined once one was read. */
  private reportedFailure: SidecarError['code'] | undefined;

  constructor(
    private readonly client: Client,
    periodMs: number,
    private readonly logger: Logger,
    /** True when this source made the client and so closes it. */
    private readonly ownsClient: boolean,
  ) {
    this.cache = new RefreshingCache({
      periodMs,
      fetch: () => this.readAll(),
      onStaleServed: (err) =>
        this.logger.warn(
          { err },
          `agent configuration refresh failed; serving the last good configuration. ${describeForOperator(classifyReadFailure(err))}`,
        ),
    });
  }

  /** Primes the cache. A cluster that is down at start is not fatal (agents get 503 until it answers). */
  async start(): Promise<void> {
    try {
      const entries = await this.cache.refresh();
      this.logger.info({ entries: entries.length }, `agent configuration loaded from ${agentConfigIndex}`);
    } catch (err) {
      this.reportLoadFailure(classifyReadFailure(err));
    }
  }

  async lookup(query: AgentConfigQuery): Promise<AgentConfigResult> {
    try {
      return matchAgentConfig(query, await this.cache.get());
    } catch (err) {
      const cause = classifyReadFailure(err);
      // Per-request 503s are logged at debug; the cause is logged here whenever it changes (a proxy started
      // before the cluster sees "unreachable" at start, then the missing privilege once the cluster answers).
      this.reportLoadFailure(cause);
      throw new SidecarError('SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE', undefined, {
        cause,
        remediation: describeForOperator(cause),
      });
    }
  }

  readonly close = closeOnce(async () => {
    if (this.ownsClient) await this.client.close();
  });

  private async readAll(): Promise<AgentConfigEntry[]> {
    const entries = await this.searchAll();
    if (this.reportedFailure !== undefined) {
      this.reportedFailure = undefined;
      this.logger.info({ entries: entries.length }, `agent configuration loaded from ${agentConfigIndex}`);
    }
    return entries;
  }

  private async searchAll(): Promise<AgentConfigEntry[]> {
    try {
      const response = await this.client.search<unknown>({
        index: agentConfigIndex,
        size: pageSize,
        query: { match_all: {} },
      });
      const total = totalOf(response.hits.total);
      if (total !== undefined && total > response.hits.hits.length) {
        this.logger.warn(
          { total, read: response.hits.hits.length },
          `${agentConfigIndex} holds more configurations than one page; the rest are ignored`,
        );
      }
      return parseHits(response.hits.hits);
    } catch (err) {
      // Kibana creates the index with the first configuration; until then there is simply none.
      if (err instanceof errors.ResponseError && err.statusCode === 404) return [];
      throw classifyReadFailure(err);
    }
  }

  /** Logs a failure to read the configuration once per distinct cause, until a read succeeds. */
  private reportLoadFailure(failure: SidecarError): void {
    if (failure.code === this.reportedFailure) return;
    this.reportedFailure = failure.code;
    const line = `agent configuration could not be read from ${agentConfigIndex}: ${describeForOperator(failure)}`;
    // A missing privilege or bad credential will not fix itself: error. An outage may: warn.
    if (failure.code === 'SIDECAR_ERR_ES_PRIVILEGES' || failure.code === 'SIDECAR_ERR_ES_AUTH')
      this.logger.error({ err: failure }, line);
    else this.logger.warn({ err: failure }, line);
  }
}
