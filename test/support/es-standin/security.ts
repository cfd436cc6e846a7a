import crypto from 'node:crypto';

import { badApiKey, badUserCredentials, missingCredentials } from './es-errors';
import { isObject, type JsonObject, objectList, stringList } from './json';
import { type PermissionLayers, type RoleDescriptor, superuserRole } from './privileges';

export interface StoredUser {
  readonly username: string;
  readonly password: string;
  readonly roles: string[];
  readonly full_name: string | null;
  readonly email: string | null;
  readonly metadata: Record<string, unknown>;
  readonly enabled: boolean;
  readonly reserved: boolean;
}

export interface StoredApiKey {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly owner: string;
  /** The key's own role descriptors (empty: the owner's privileges at use time). */
  readonly roleDescriptors: Record<string, RoleDescriptor>;
  /** The owner's roles when the key was created: a key never gains what its owner is granted later. */
  readonly limitedBy: RoleDescriptor[];
  readonly metadata: Record<string, unknown>;
  readonly creation: number;
  readonly expiration: number | null;
  invalidated: boolean;
}

/** Who a request authenticated as, and what they may do. */
export interface Principal {
  readonly username: string;
  readonly roles: string[];
  readonly layers: PermissionLayers;
  readonly user: StoredUser;
  readonly apiKey: StoredApiKey | undefined;
}

export function parseRoleDescriptor(body: JsonObject): RoleDescriptor {
  return {
    cluster: stringList(body, 'cluster'),
    indices: objectList(body, 'indices').map((i) => ({
      names: stringList(i, 'names'),
      privileges: stringList(i, 'privileges'),
      allow_restricted_indices: i['allow_restricted_indices'] === true,
    })),
    applications: objectList(body, 'applications').map((a) => ({
      application: typeof a['application'] === 'string' ? a['application'] : '',
      privileges: stringList(a, 'privileges'),
      resources: stringList(a, 'resources'),
    })),
    run_as: stringList(body, 'run_as'),
    metadata: isObject(body['metadata']) ? { ...body['metadata'] } : {},
  };
}

/** Users, roles and API keys of the stand-in's "native realm" (plus the reserved `elastic` superuser). */
export class SecurityRealm {
  readonly users = new Map<string, StoredUser>();
  readonly roles = new Map<string, RoleDescriptor>();
  readonly apiKeys = new Map<string, StoredApiKey>();

  constructor(elasticPassword: string) {
    this.users.set('elastic', {
      username: 'elastic',
      password: elasticPassword,
      roles: ['superuser'],
      full_name: null,
      email: null,
      metadata: { _reserved: true },
      enabled: true,
      reserved: true,
    });
  }

  roleNamed(name: string): RoleDescriptor | undefined {
    return name === 'superuser' ? superuserRole : this.roles.get(name);
  }

  private userLayer(user: Pick<StoredUser, 'roles'>): RoleDescriptor[] {
    return user.roles.flatMap((r) => {
      const role = this.roleNamed(r);
      return role === undefined ? [] : [role];
    });
  }

  /** Reads the Authorization header as Elasticsearch does: Basic or ApiKey, anything else is a 401. */
  authenticate(authorization: string | undefined, path: string): Principal {
    if (authorization === undefined || authorization === '') throw missingCredentials(path);
    const space = authorization.indexOf(' ');
    const scheme = space < 0 ? authorization : authorization.slice(0, space);
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const [left, right] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (scheme === 'Basic') {
      const user = this.users.get(left);
      if (user === undefined || !user.enabled || !safeEqual(user.password, right)) throw badUserCredentials(left, path);
      return { username: user.username, roles: user.roles, layers: [this.userLayer(user)], user, apiKey: undefined };
    }
    if (scheme === 'ApiKey') {
      const key = this.apiKeys.get(left);
      const expired = key?.expiration !== null && key?.expiration !== undefined && key.expiration < Date.now();
      if (key === undefined || key.invalidated || expired || !safeEqual(key.key, right)) throw badApiKey(path);
      const owner = this.users.get(key.owner);
      if (owner === undefined) throw badApiKey(path);
      const own = Object.values(key.roleDescriptors);
      const layers = own.length > 0 ? [own, key.limitedBy] : [key.limitedBy];
      return { username: owner.username, roles: [], layers, user: owner, apiKey: key };
    }
    throw missingCredentials(path);
  }

  createApiKey(owner: string, body: JsonObject): StoredApiKey {
    const descriptors: Record<string, RoleDescriptor> = {};
    const given = isObject(body['role_descriptors']) ? body['role_descriptors'] : {};
    for (const [name, value] of Object.entries(given))
      if (isObject(value)) descriptors[name] = parseRoleDescriptor(value);
    const expiration = typeof body['expiration'] === 'string' ? Date.now() + durationMs(body['expiration']) : null;
    return {
      id: crypto.randomBytes(15).toString('base64url').slice(0, 20),
      name: typeof body['name'] === 'string' ? body['name'] : '',
      key: crypto.randomBytes(16).toString('base64url').slice(0, 22),
      owner,
      roleDescriptors: descriptors,
      limitedBy: this.userLayer(this.users.get(owner) ?? { roles: [] }),
      metadata: isObject(body['metadata']) ? { ...body['metadata'] } : {},
      creation: Date.now(),
      expiration,
      invalidated: false,
    };
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Elasticsearch time units as API-key expirations use them ("1d", "30m"). */
function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (match === null) return 0;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (unit[match[2] ?? 's'] ?? 1000);
}
