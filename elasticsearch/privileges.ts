import type { Client } from '@elastic/elasticsearch';

import type { SidecarConfig } from '../config/schema';
import { SidecarError } from '../core/errors';
import { schemaParser } from '../core/parse';
import { agentConfigIndex, apmIndexPatterns, sourceMapReadEntry } from './setup/roles';

interface IndexPrivilegeRequirement {
  readonly names: readonly string[];
  readonly privileges: readonly string[];
  /** Needed for Kibana's restricted indices (.apm-agent-configuration). */
  readonly allow_restricted_indices?: boolean;
}

export interface RequiredPrivileges {
  readonly cluster: readonly string[];
  readonly index: readonly IndexPrivilegeRequirement[];
}

/** What a forwarder's credential must hold. */
export const writerPrivileges: RequiredPrivileges = {
  cluster: ['monitor'],
  index: [{ names: [...apmIndexPatterns], privileges: ['auto_configure', 'create_doc'] }],
};

/** RUM source mapping reads .apm-source-map: on when RUM is served and source_mapping.enabled (the default). */
export function sourceMappingOn(config: SidecarConfig): boolean {
  return config.server.rum.enabled && config.server.rum.source_mapping.enabled;
}

/** The writer's privileges as configured (read on .apm-source-map only with source mapping on). */
export function writerPrivilegesFor(sourceMapping: boolean): RequiredPrivileges {
  return sourceMapping
    ? { ...writerPrivileges, index: [...writerPrivileges.index, sourceMapReadEntry] }
    : writerPrivileges;
}

/** What the proxy's credential must hold to serve central agent configuration from Elasticsearch. */
export const agentConfigPrivileges: RequiredPrivileges = {
  cluster: [],
  index: [{ names: [agentConfigIndex], privileges: ['read'], allow_restricted_indices: true }],
};

/** One privilege the credential lacks, and where. */
export interface MissingPrivilege {
  readonly kind: 'cluster' | 'index';
  readonly privilege: string;
  /** Index pattern; absent for cluster privileges. */
  readonly resource?: string;
}

export function describeMissing(missing: MissingPrivilege): string {
  return missing.kind === 'cluster'
    ? `cluster privilege ${missing.privilege}`
    : `${missing.privilege} on ${missing.resource ?? '?'}`;
}

/** The cluster/index part of a `_has_privileges` answer: privilege name -> held, per index pattern for index. */
interface HasPrivilegesAnswer {
  readonly cluster?: Readonly<Record<string, boolean>>;
  readonly index?: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
}

const held = { type: 'object', required: [], additionalProperties: { type: 'boolean' } } as const;

const parseAnswer = schemaParser<HasPrivilegesAnswer>(
  {
    type: 'object',
    properties: {
      cluster: { ...held, nullable: true },
      index: { type: 'object', nullable: true, required: [], additionalProperties: held },
    },
  },
  (problem) =>
    new SidecarError('SIDECAR_ERR_ES_NOT_ELASTICSEARCH', `unexpected _has_privileges response: ${problem}`, {
      remediation: 'check that output.elasticsearch.hosts points at Elasticsearch 8.x with security enabled',
    }),
);

/** The privileges a `_has_privileges` answer says are not held. */
export function parseHasPrivileges(body: unknown): MissingPrivilege[] {
  const answer = parseAnswer(body);
  const missing: MissingPrivilege[] = [];
  for (const [privilege, isHeld] of Object.entries(answer.cluster ?? {}))
    if (!isHeld) missing.push({ kind: 'cluster', privilege });
  for (const [resource, privileges] of Object.entries(answer.index ?? {})) {
    for (const [privilege, isHeld] of Object.entries(privileges))
      if (!isHeld) missing.push({ kind: 'index', privilege, resource });
  }
  return missing;
}

/** Asks the cluster which of `required` the client's own credential lacks. */
export async function findMissingPrivileges(client: Client, required: RequiredPrivileges): Promise<MissingPrivilege[]> {
  const res: unknown = await client.security.hasPrivileges({
    cluster: [...required.cluster],
    index: required.index.map((i) => ({
      names: [...i.names],
      privileges: [...i.privileges],
      ...(i.allow_restricted_indices === true ? { allow_restricted_indices: true } : {}),
    })),
  });
  return parseHasPrivileges(res);
}

/**
 * Asks the cluster which of `required` the client's own credential lacks, as human-readable lines
 * ("create_doc on traces-apm*"). Empty when everything is held.
 */
export async function missingPrivileges(client: Client, required: RequiredPrivileges): Promise<string[]> {
  return (await findMissingPrivileges(client, required)).map(describeMissing);
}

/** The operator's fix for a list of missing privileges of the writer or proxy credential. */
export function privilegeRemediation(missing: readonly MissingPrivilege[], roleName: string): string {
  const byResource = new Map<string, string[]>();
  for (const m of missing) {
    const where = m.kind === 'cluster' ? 'the cluster' : (m.resource ?? '?');
    byResource.set(where, [...(byResource.get(where) ?? []), m.privilege]);
  }
  const grants = [...byResource].map(([where, privileges]) => `${privileges.join(', ')} on ${where}`).join('; ');
  return `grant ${grants} (run apm-sidecar setup to create the ${roleName} role that holds exactly these, and give it to this credential)`;
}

/** Throws SIDECAR_ERR_ES_PRIVILEGES naming every missing privilege, or returns when all are held. */
export async function assertPrivileges(client: Client, required: RequiredPrivileges, roleName: string): Promise<void> {
  const missing = await findMissingPrivileges(client, required);
  if (missing.length === 0) return;
  throw new SidecarError(
    'SIDECAR_ERR_ES_PRIVILEGES',
    `the Elasticsearch credential lacks ${missing.map(describeMissing).join(', ')}`,
    {
      remediation: privilegeRemediation(missing, roleName),
    },
  );
}

/** What each process needs from its own output.elasticsearch credential, by the configuration. */
export function requiredPrivilegesFor(
  role: 'forwarder' | 'proxy',
  config: SidecarConfig,
): RequiredPrivileges | undefined {
  if (role === 'forwarder')
    return config.output.elasticsearch.hosts.length > 0 ? writerPrivilegesFor(sourceMappingOn(config)) : undefined;
  // API-key verification authenticates as the agent's key, so the proxy needs privileges of its own only
  // for central agent configuration read from Elasticsearch.
  return config.agent_config.source === 'elasticsearch' ? agentConfigPrivileges : undefined;
}
