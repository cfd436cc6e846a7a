import type { AgentConfigQuery, AgentConfigResult } from './model';

/**
 * Where /config/v1/agents reads central configuration from. lookup() answers from the source's cache: it asks
 * the backing store at most once per cache period, serves the last good answer while the store is unreachable,
 * and throws a SidecarError (SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE) only when it never had one.
 */
export interface AgentConfigSource {
  readonly kind: 'file' | 'elasticsearch' | 'upstream';
  start(): Promise<void>;
  lookup(query: AgentConfigQuery): Promise<AgentConfigResult>;
  close(): Promise<void>;
}
