/** The data the APM writer and reader roles cover (SPEC: Documents and Elasticsearch). */
export const apmIndexPatterns = ['traces-apm*', 'logs-apm*', 'metrics-apm*'] as const;

/** Kibana's index of central agent configuration; restricted, so roles must allow_restricted_indices. */
export const agentConfigIndex = '.apm-agent-configuration';

/** Kibana's index of uploaded RUM source maps; the writer reads it only when source mapping is on. */
export const sourceMapIndex = '.apm-source-map';

/** read on .apm-source-map (a system index, hence allow_restricted_indices). */
export const sourceMapReadEntry: RoleIndexEntry = {
  names: [sourceMapIndex],
  privileges: ['read'],
  allow_restricted_indices: true,
};

export const writerRoleName = 'apm_sidecar_writer';
const readerRoleName = 'apm_sidecar_reader';
export const agentConfigReaderRoleName = 'apm_sidecar_agent_config_reader';

export interface RoleIndexEntry {
  readonly names: string[];
  readonly privileges: string[];
  readonly allow_restricted_indices?: boolean;
}

export interface RoleBody {
  readonly cluster: string[];
  readonly indices: RoleIndexEntry[];
  readonly metadata: Record<string, unknown>;
}

export interface RoleDefinition {
  readonly name: string;
  readonly body: RoleBody;
}

/** Least privilege for a forwarder: cluster monitor; auto_configure + create_doc on the APM data streams. */
export const writerRole: RoleBody = {
  cluster: ['monitor'],
  indices: [{ names: [...apmIndexPatterns], privileges: ['auto_configure', 'create_doc'] }],
  metadata: { managed_by: 'apm-sidecar' },
};

/** What readers (Kibana users of the APM app) need on the same data. */
export const readerRole: RoleBody = {
  cluster: [],
  indices: [{ names: [...apmIndexPatterns], privileges: ['read', 'view_index_metadata'] }],
  metadata: { managed_by: 'apm-sidecar' },
};

/** For a proxy with agent_config.source: elasticsearch (read Kibana's agent configuration, nothing else). */
export const agentConfigReaderRole: RoleBody = {
  cluster: [],
  indices: [{ names: [agentConfigIndex], privileges: ['read'], allow_restricted_indices: true }],
  metadata: { managed_by: 'apm-sidecar' },
};

/** The writer role as configured: with read on .apm-source-map when RUM source mapping is on. */
export function writerRoleFor(sourceMapping: boolean): RoleBody {
  return sourceMapping ? { ...writerRole, indices: [...writerRole.indices, sourceMapReadEntry] } : writerRole;
}

export function managedRoles(options: { readonly sourceMapping?: boolean } = {}): RoleDefinition[] {
  return [
    { name: writerRoleName, body: writerRoleFor(options.sourceMapping === true) },
    { name: readerRoleName, body: readerRole },
    { name: agentConfigReaderRoleName, body: agentConfigReaderRole },
  ];
}

/** Application privileges an agent API key carries, as APM Server checks them (application apm, resource "-"). */
const agentApplicationPrivileges = {
  application: 'apm',
  privileges: ['event:write', 'config_agent:read'],
  resources: ['-'],
};

/**
 * The role descriptors of an agent API key. A key created with explicit descriptors holds the intersection
 * of them and its creator's privileges, so an admin's key made this way can do nothing but send APM data.
 */
export const agentApiKeyRoleDescriptors = {
  apm_agent: {
    cluster: [],
    indices: [],
    applications: [agentApplicationPrivileges],
    metadata: { managed_by: 'apm-sidecar' },
  },
};

export function writerApiKeyRoleDescriptorsFor(sourceMapping: boolean): Record<string, RoleBody> {
  return { [writerRoleName]: { ...writerRoleFor(sourceMapping), metadata: { managed_by: 'apm-sidecar' } } };
}
