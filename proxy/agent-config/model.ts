import { createHash } from 'node:crypto';

import type { JSONSchemaType } from 'ajv';

import { InternalError } from '../../core/errors';
import { schemaCheck } from '../../core/parse';

/**
 * Central agent configuration as Kibana stores it in .apm-agent-configuration and APM Server serves it:
 * settings are string-valued (APM Server's agentcfg.Settings turns every JSON value into its text form), and
 * an empty service name or environment means "any".
 */
export type AgentSettings = Readonly<Record<string, string>>;

export interface AgentConfigEntry {
  readonly serviceName: string;
  readonly serviceEnvironment: string;
  readonly settings: AgentSettings;
  /** Unquoted; Kibana's own etag for documents it wrote, else derived from the settings. */
  readonly etag: string;
}

export interface AgentConfigQuery {
  readonly serviceName: string;
  readonly serviceEnvironment: string;
}

export interface AgentConfigResult {
  readonly settings: AgentSettings;
  readonly etag: string;
}

/** APM Server's agentcfg.EtagSentinel: the etag of "no configuration for this service". */
const noConfigEtag = '-';

export const noConfig: AgentConfigResult = { settings: {}, etag: noConfigEtag };

/** An etag that changes exactly when the settings change: a hash of their canonical (key-sorted) JSON. */
export function etagOfSettings(settings: AgentSettings): string {
  const canonical = JSON.stringify(
    Object.keys(settings)
      .sort()
      .map((key) => [key, settings[key]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export class AgentConfigParseError extends InternalError {
  constructor(message: string) {
    super('SIDECAR_ERR_AGENT_CONFIG_DOCUMENT', message);
  }
}

type Scalar = string | number | boolean;

const settingsSchema: JSONSchemaType<Readonly<Record<string, Scalar>>> = {
  type: 'object',
  required: [],
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};

const checkSettings = schemaCheck(settingsSchema);

/** Settings as APM Server reads them: every scalar becomes its text ("0.5", "true"); nested values are refused. */
export function parseSettings(value: unknown, where: string): AgentSettings {
  const checked = checkSettings(value);
  if (!checked.ok) throw new AgentConfigParseError(`${where}: settings ${checked.problem}`);
  return textOf(checked.value);
}

function textOf(settings: Readonly<Record<string, Scalar>>): AgentSettings {
  return Object.fromEntries(Object.entries(settings).map(([key, raw]) => [key, String(raw)]));
}

interface AgentConfigDocument {
  readonly service?: { readonly name?: string | null; readonly environment?: string | null } | null;
  readonly settings: Readonly<Record<string, Scalar>>;
  readonly etag?: string | null;
}

const checkEntry = schemaCheck<AgentConfigDocument>({
  type: 'object',
  required: ['settings'],
  properties: {
    service: {
      type: 'object',
      nullable: true,
      properties: { name: { type: 'string', nullable: true }, environment: { type: 'string', nullable: true } },
    },
    settings: settingsSchema,
    etag: { type: 'string', nullable: true },
  },
});

/**
 * One configuration entry, `{service: {name?, environment?}, settings, etag?}`: the shape of both the file
 * source's list items and Kibana's documents (which also carry agent_name and applied_by_agent, ignored here).
 */
export function parseAgentConfigEntry(value: unknown, where: string): AgentConfigEntry {
  const checked = checkEntry(value);
  if (!checked.ok) throw new AgentConfigParseError(`${where}: ${checked.problem}`);
  const { service, etag } = checked.value;
  const settings = textOf(checked.value.settings);
  return {
    serviceName: service?.name ?? '',
    serviceEnvironment: service?.environment ?? '',
    settings,
    etag: etag === undefined || etag === null || etag === '' ? etagOfSettings(settings) : etag,
  };
}

/**
 * APM Server's matching (internal/agentcfg fetch.go matchAgentConfig): the exact service name and environment
 * first, then the service name with any environment, then any service in that environment, then the
 * catch-all; "no configuration" (etag "-") when nothing matches.
 */
export function matchAgentConfig(query: AgentConfigQuery, entries: readonly AgentConfigEntry[]): AgentConfigResult {
  let byName: AgentConfigEntry | undefined;
  let byEnvironment: AgentConfigEntry | undefined;
  let catchAll: AgentConfigEntry | undefined;
  for (const entry of entries) {
    const nameMatches = entry.serviceName === query.serviceName;
    if (nameMatches && entry.serviceEnvironment === query.serviceEnvironment) return resultOf(entry);
    if (nameMatches && entry.serviceEnvironment === '') byName = entry;
    else if (entry.serviceName === '' && entry.serviceEnvironment === query.serviceEnvironment) byEnvironment = entry;
    else if (entry.serviceName === '' && entry.serviceEnvironment === '') catchAll = entry;
  }
  const found = byName ?? byEnvironment ?? catchAll;
  return found === undefined ? noConfig : resultOf(found);
}

function resultOf(entry: AgentConfigEntry): AgentConfigResult {
  return { settings: entry.settings, etag: entry.etag };
}
