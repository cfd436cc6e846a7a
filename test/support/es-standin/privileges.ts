import { matchesGlob } from './json';

/** A role as Elasticsearch stores it (the parts the stand-in evaluates). */
export interface RoleDescriptor {
  readonly cluster: string[];
  readonly indices: Array<{ names: string[]; privileges: string[]; allow_restricted_indices: boolean }>;
  readonly applications: Array<{ application: string; privileges: string[]; resources: string[] }>;
  readonly run_as: string[];
  readonly metadata: Record<string, unknown>;
}

/**
 * Which named privileges a granted privilege also grants. Checked against the real node's `_has_privileges`
 * answers (test/contract): e.g. `create_doc` does not grant `auto_configure`, `write` does not either.
 */
const clusterImplies: Readonly<Record<string, readonly string[]>> = {
  manage: ['monitor', 'manage_index_templates', 'manage_ilm', 'read_ilm', 'manage_pipeline', 'manage_ingest_pipelines'],
  manage_security: ['manage_api_key', 'manage_own_api_key', 'read_security', 'manage_service_account', 'manage_token'],
  manage_api_key: ['manage_own_api_key'],
  manage_ilm: ['read_ilm'],
  read_security: [],
};

const indexImplies: Readonly<Record<string, readonly string[]>> = {
  write: ['index', 'create', 'create_doc', 'delete'],
  index: ['create', 'create_doc'],
  create: ['create_doc'],
  manage: [
    'create_index',
    'delete_index',
    'view_index_metadata',
    'monitor',
    'maintenance',
    'auto_configure',
    'manage_ilm',
    'manage_data_stream_lifecycle',
  ],
  create_index: ['auto_configure'],
  read: [],
};

function grants(table: Readonly<Record<string, readonly string[]>>, granted: string, wanted: string): boolean {
  if (granted === 'all' || granted === wanted) return true;
  const implied = table[granted] ?? [];
  return implied.some((p) => p === wanted || grants(table, p, wanted));
}

/** A role pattern covers a requested name, or a requested pattern it is at least as wide as. */
function covers(rolePattern: string, requested: string): boolean {
  return matchesGlob(rolePattern, requested);
}

export function roleGrantsCluster(role: RoleDescriptor, privilege: string): boolean {
  return role.cluster.some((granted) => grants(clusterImplies, granted, privilege));
}

export function roleGrantsIndex(role: RoleDescriptor, index: string, privilege: string): boolean {
  return role.indices.some(
    (entry) =>
      entry.names.some((n) => covers(n, index)) && entry.privileges.some((p) => grants(indexImplies, p, privilege)),
  );
}

/** Application privileges whose names contain `:` or `/` or `*` are action patterns (no definition needed). */
export function roleGrantsApplication(
  role: RoleDescriptor,
  application: string,
  privilege: string,
  resource: string,
): boolean {
  return role.applications.some(
    (entry) =>
      matchesGlob(entry.application, application) &&
      entry.resources.some((r) => covers(r, resource)) &&
      entry.privileges.some((p) => p === '*' || matchesGlob(p, privilege)),
  );
}

/**
 * The effective permission of a principal: a list of layers that must all allow (an API key is limited by its
 * own role descriptors AND by its owner's roles); within a layer any role may allow.
 */
export type PermissionLayers = ReadonlyArray<readonly RoleDescriptor[]>;

export function allowsCluster(layers: PermissionLayers, privilege: string): boolean {
  return layers.every((layer) => layer.some((r) => roleGrantsCluster(r, privilege)));
}

export function allowsIndex(layers: PermissionLayers, index: string, privilege: string): boolean {
  return layers.every((layer) => layer.some((r) => roleGrantsIndex(r, index, privilege)));
}

export function allowsApplication(
  layers: PermissionLayers,
  application: string,
  privilege: string,
  resource: string,
): boolean {
  return layers.every((layer) => layer.some((r) => roleGrantsApplication(r, application, privilege, resource)));
}

export const superuserRole: RoleDescriptor = {
  cluster: ['all'],
  indices: [{ names: ['*'], privileges: ['all'], allow_restricted_indices: true }],
  applications: [{ application: '*', privileges: ['*'], resources: ['*'] }],
  run_as: ['*'],
  metadata: { _reserved: true },
};
