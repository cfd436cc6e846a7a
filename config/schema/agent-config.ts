import type { Schema } from 'convict';

/** agent_config: central agent configuration answers. */
export interface AgentConfigConfig {
  source: 'none' | 'elasticsearch' | 'file' | 'upstream';
  file: string | null;
  cache: { expiration: string };
}

export const agentConfigSchema: Schema<AgentConfigConfig> = {
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
};

/** upstream: an APM Server the proxy passes unknown routes (and agent config) to. */
export interface UpstreamConfig {
  url: string | null;
  secret_token: string | null;
  api_key: string | null;
  timeout: string;
  x_forwarded_for: boolean;
  ssl: { certificate_authorities: string[] };
}

export const upstreamSchema: Schema<UpstreamConfig> = {
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
};
