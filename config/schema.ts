import type { Schema } from 'convict';

import { type AdminConfig, adminSchema } from './schema/admin';
import { type AgentConfigConfig, agentConfigSchema, type UpstreamConfig, upstreamSchema } from './schema/agent-config';
import { type DataStreamsConfig, dataStreamsSchema, type ForwarderConfig, forwarderSchema } from './schema/forwarder';
import { type OutputConfig, outputSchema } from './schema/output';
import { type LogConfig, logSchema, type PathConfig, pathSchema } from './schema/process';
import { type QueueConfig, queueSchema } from './schema/queue';
import { type ServerConfig, serverSchema } from './schema/server';
import { type SetupConfig, setupSchema } from './schema/setup';

/**
 * The whole configuration of apm-sidecar. Keys follow apm-server.yml naming; sizes are bytes, durations are
 * strings ("30s"). Every key can be set from the environment: the SPEC's names where it gives one, otherwise
 * APM_SIDECAR_<KEY_PATH> (see docs/configuration.md, generated from this file). Secrets may also come from
 * <ENV>_FILE.
 */
export interface SidecarConfig {
  server: ServerConfig;
  admin: AdminConfig;
  queue: QueueConfig;
  output: OutputConfig;
  forwarder: ForwarderConfig;
  data_streams: DataStreamsConfig;
  agent_config: AgentConfigConfig;
  upstream: UpstreamConfig;
  path: PathConfig;
  log: LogConfig;
  setup: SetupConfig;
}

/** One section a file under config/schema/, in the order docs/configuration.md lists them. */
export const schema: Schema<SidecarConfig> = {
  server: serverSchema,
  admin: adminSchema,
  queue: queueSchema,
  output: outputSchema,
  forwarder: forwarderSchema,
  data_streams: dataStreamsSchema,
  agent_config: agentConfigSchema,
  upstream: upstreamSchema,
  path: pathSchema,
  log: logSchema,
  setup: setupSchema,
};
