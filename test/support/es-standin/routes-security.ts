import { jsonBody, ok, type RequestContext, requireCluster, type Route, route, type RouteResult } from './context';
import { badRequest, notFound } from './es-errors';
import { isObject, objectList, optionalString, stringList } from './json';
import { allowsApplication, allowsCluster, allowsIndex } from './privileges';
import { parseRoleDescriptor, type StoredUser } from './security';

function authenticate(ctx: RequestContext): RouteResult {
  const { principal } = ctx;
  const user = principal.user;
  const realm =
    principal.apiKey !== undefined
      ? { name: '_es_api_key', type: '_es_api_key' }
      : user.reserved
        ? { name: 'reserved', type: 'reserved' }
        : { name: 'default_native', type: 'native' };
  return ok({
    username: user.username,
    roles: principal.apiKey !== undefined ? [] : user.roles,
    full_name: user.full_name,
    email: user.email,
    metadata: user.metadata,
    enabled: user.enabled,
    authentication_realm: realm,
    lookup_realm: realm,
    authentication_type: principal.apiKey !== undefined ? 'api_key' : 'realm',
    ...(principal.apiKey !== undefined ? { api_key: { id: principal.apiKey.id, name: principal.apiKey.name } } : {}),
  });
}

/** `_has_privileges`, evaluated against the caller's roles (and an API key's own descriptors). */
function hasPrivileges(ctx: RequestContext): RouteResult {
  const body = jsonBody(ctx);
  const layers = ctx.principal.layers;
  let all = true;
  const cluster: Record<string, boolean> = {};
  for (const p of stringList(body, 'cluster')) all = (cluster[p] = allowsCluster(layers, p)) && all;
  const index: Record<string, Record<string, boolean>> = {};
  for (const entry of objectList(body, 'index')) {
    for (const name of stringList(entry, 'names')) {
      const held = (index[name] ??= {});
      for (const p of stringList(entry, 'privileges')) all = (held[p] = allowsIndex(layers, name, p)) && all;
    }
  }
  const application: Record<string, Record<string, Record<string, boolean>>> = {};
  for (const entry of objectList(body, 'application')) {
    const app = optionalString(entry, 'application') ?? '';
    const resources = (application[app] ??= {});
    for (const resource of stringList(entry, 'resources')) {
      const held = (resources[resource] ??= {});
      for (const p of stringList(entry, 'privileges'))
        all = (held[p] = allowsApplication(layers, app, p, resource)) && all;
    }
  }
  // The real node answers index names, privileges and resources in sorted order (cluster: as requested).
  return ok({
    username: ctx.principal.username,
    has_all_requested: all,
    cluster,
    index: sortedDeep(index),
    application: sortedDeep(application),
  });
}

function sortedDeep(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sortedDeep(v)]),
  );
}

function putRole(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_security'], 'cluster:admin/xpack/security/role/put');
  const name = ctx.params['name'] ?? '';
  const created = !ctx.realm.roles.has(name);
  ctx.realm.roles.set(name, parseRoleDescriptor(jsonBody(ctx)));
  ctx.changed();
  return ok({ role: { created } });
}

function getRoles(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['read_security', 'manage_security'], 'cluster:admin/xpack/security/role/get');
  const wanted = ctx.params['name']?.split(',');
  const out: Record<string, unknown> = {};
  for (const [name, role] of ctx.realm.roles) {
    if (wanted === undefined || wanted.includes(name)) out[name] = { ...role, transient_metadata: { enabled: true } };
  }
  return ok(out, wanted !== undefined && Object.keys(out).length === 0 ? 404 : 200);
}

function deleteRole(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_security'], 'cluster:admin/xpack/security/role/delete');
  const found = ctx.realm.roles.delete(ctx.params['name'] ?? '');
  ctx.changed();
  return ok({ found }, found ? 200 : 404);
}

function publicUser(user: StoredUser): Record<string, unknown> {
  return {
    username: user.username,
    roles: user.roles,
    full_name: user.full_name,
    email: user.email,
    metadata: user.metadata,
    enabled: user.enabled,
  };
}

function putUser(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_security'], 'cluster:admin/xpack/security/user/put');
  const name = ctx.params['name'] ?? '';
  const body = jsonBody(ctx);
  const existing = ctx.realm.users.get(name);
  if (existing?.reserved === true)
    throw badRequest('illegal_argument_exception', `user [${name}] is reserved and only the password can be changed`);
  const password = optionalString(body, 'password') ?? existing?.password;
  if (password === undefined)
    throw badRequest(
      'action_request_validation_exception',
      'Validation Failed: 1: passwords must be set when creating a new user;',
    );
  ctx.realm.users.set(name, {
    username: name,
    password,
    roles: stringList(body, 'roles'),
    full_name: optionalString(body, 'full_name') ?? null,
    email: optionalString(body, 'email') ?? null,
    metadata: isObject(body['metadata']) ? { ...body['metadata'] } : {},
    enabled: body['enabled'] !== false,
    reserved: false,
  });
  ctx.changed();
  return ok({ created: existing === undefined });
}

function getUsers(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['read_security', 'manage_security'], 'cluster:admin/xpack/security/user/get');
  const wanted = ctx.params['name']?.split(',');
  const out: Record<string, unknown> = {};
  for (const [name, user] of ctx.realm.users)
    if (wanted === undefined || wanted.includes(name)) out[name] = publicUser(user);
  return ok(out, wanted !== undefined && Object.keys(out).length === 0 ? 404 : 200);
}

function deleteUser(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_security'], 'cluster:admin/xpack/security/user/delete');
  const found = ctx.realm.users.delete(ctx.params['name'] ?? '');
  ctx.changed();
  return ok({ found }, found ? 200 : 404);
}

function createApiKey(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_own_api_key'], 'cluster:admin/xpack/security/api_key/create');
  if (ctx.principal.apiKey !== undefined && Object.keys(ctx.principal.apiKey.roleDescriptors).length > 0) {
    throw badRequest(
      'illegal_argument_exception',
      'creating derived api keys requires an explicit role descriptor that is empty (has no privileges)',
    );
  }
  const key = ctx.realm.createApiKey(ctx.principal.username, jsonBody(ctx));
  ctx.realm.apiKeys.set(key.id, key);
  ctx.changed();
  return ok({
    id: key.id,
    name: key.name,
    ...(key.expiration !== null ? { expiration: key.expiration } : {}),
    api_key: key.key,
    encoded: Buffer.from(`${key.id}:${key.key}`).toString('base64'),
  });
}

function invalidateApiKeys(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_own_api_key'], 'cluster:admin/xpack/security/api_key/invalidate');
  const body = jsonBody(ctx);
  const ids = [...stringList(body, 'ids'), ...stringList(body, 'id')];
  const name = optionalString(body, 'name');
  const mayManageAll = allowsCluster(ctx.principal.layers, 'manage_api_key');
  const invalidated: string[] = [];
  const previously: string[] = [];
  for (const key of ctx.realm.apiKeys.values()) {
    if (!ids.includes(key.id) && key.name !== name) continue;
    if (!mayManageAll && key.owner !== ctx.principal.username) continue;
    (key.invalidated ? previously : invalidated).push(key.id);
    key.invalidated = true;
  }
  if (ids.length === 0 && name === undefined)
    throw badRequest(
      'action_request_validation_exception',
      'Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false;',
    );
  ctx.changed();
  return ok({ invalidated_api_keys: invalidated, previously_invalidated_api_keys: previously, error_count: 0 });
}

function getApiKeys(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_own_api_key'], 'cluster:admin/xpack/security/api_key/get');
  const id = ctx.query.get('id');
  const name = ctx.query.get('name');
  const keys = [...ctx.realm.apiKeys.values()].filter(
    (k) => (id === null || k.id === id) && (name === null || k.name === name),
  );
  if (id !== null && keys.length === 0) throw notFound('resource_not_found_exception', `api key [${id}] not found`);
  return ok({
    api_keys: keys.map((k) => ({
      id: k.id,
      name: k.name,
      type: 'rest',
      creation: k.creation,
      ...(k.expiration !== null ? { expiration: k.expiration } : {}),
      invalidated: k.invalidated,
      username: k.owner,
      realm: 'reserved',
      metadata: k.metadata,
    })),
  });
}

export const securityRoutes: Route[] = [
  route('GET', '/_security/_authenticate', authenticate),
  route('GET|POST', '/_security/user/_has_privileges', hasPrivileges),
  route('PUT|POST', '/_security/role/:name', putRole),
  route('GET', '/_security/role/:name?', getRoles),
  route('DELETE', '/_security/role/:name', deleteRole),
  route('PUT|POST', '/_security/user/:name', putUser),
  route('GET', '/_security/user/:name?', getUsers),
  route('DELETE', '/_security/user/:name', deleteUser),
  route('PUT|POST', '/_security/api_key', createApiKey),
  route('DELETE', '/_security/api_key', invalidateApiKeys),
  route('GET', '/_security/api_key', getApiKeys),
];
