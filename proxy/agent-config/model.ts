import { createHash } from 'node:crypto';

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

export class AgentConfigParseError extends Error {
  override readonly name = 'AgentConfigParseError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Settings as APM Server reads them: every scalar becomes its text ("0.5", "true"); nested values are refused. */
export function parseSettings(value: unknown, where: string): AgentSettings {
  if (!isRecord(value))
    throw new AgentConfigParseError(`${where}: settings must be an object of setting names to values`);
  const settings: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (typeof raw === 'string') settings[key] = raw;
    else if (typeof raw === 'number' || typeof raw === 'boolean') settings[key] = String(raw);
    else throw new AgentConfigParseError(`${where}: setting "${key}" must be a string, number or boolean`);
  }
  return settings;
}

function optionalText(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new AgentConfigParseError(`${where} must be a string`);
  return value;
}

/**
 * One configuration entry, `{service: {name?, environment?}, settings, etag?}`: the shape of both the file
 * source's list items and Kibana's documents (which also carry agent_name and applied_by_agent, ignored here).
 */
export function parseAgentConfigEntry(value: unknown, where: string): AgentConfigEntry {
  if (!isRecord(value)) throw new AgentConfigParseError(`${where} must be an object with service and settings`);
  const service = value.service ?? {};
  if (!isRecord(service))
    throw new AgentConfigParseError(`${where}.service must be an object with name and/or environment`);
  const settings = parseSettings(value.settings, `${where}.settings`);
  const etag = optionalText(value.etag, `${where}.etag`);
  return {
    serviceName: optionalText(service.name, `${where}.service.name`),
    serviceEnvironment: optionalText(service.environment, `${where}.service.environment`),
    settings,
    etag: etag === '' ? etagOfSettings(settings) : etag,
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
