import fs from 'node:fs';

import { isObject, type JsonObject } from './json';
import { parseRoleDescriptor, type SecurityRealm, type StoredApiKey } from './security';
import type { DocumentStore } from './store';

/**
 * Process mode keeps its state in one JSON file, rewritten (write + rename) before a mutating request is
 * answered: a response the client saw is on disk, so SIGKILL and restart keep every acknowledged document.
 */
export function saveState(file: string, store: DocumentStore, realm: SecurityRealm): void {
  const state = {
    users: [...realm.users.values()].filter((u) => !u.reserved),
    roles: Object.fromEntries(realm.roles),
    apiKeys: [...realm.apiKeys.values()],
    indexTemplates: Object.fromEntries(store.indexTemplates),
    componentTemplates: Object.fromEntries(store.componentTemplates),
    ilmPolicies: Object.fromEntries(store.ilmPolicies),
    dataStreams: [...store.dataStreams.values()],
    indices: [...store.indices.values()].map((i) => ({
      name: i.name,
      uuid: i.uuid,
      dataStream: i.dataStream ?? null,
      fields: [...i.fields],
      dynamicTemplates: i.dynamicTemplates,
      replicas: i.replicas,
      nextSeqNo: i.nextSeqNo,
      docs: [...i.docs].map(([id, d]) => [id, d.seqNo, d.source]),
    })),
  };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
}

function entries(value: unknown): Array<[string, JsonObject]> {
  return isObject(value) ? Object.entries(value).filter((e): e is [string, JsonObject] => isObject(e[1])) : [];
}

function list(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Loads what saveState wrote; a missing file is an empty cluster (the "lose documents" restart). */
export function loadState(file: string, store: DocumentStore, realm: SecurityRealm): void {
  if (!fs.existsSync(file)) return;
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isObject(raw)) return;
  for (const u of list(raw['users'])) {
    realm.users.set(str(u['username']), {
      username: str(u['username']),
      password: str(u['password']),
      roles: strings(u['roles']),
      full_name: u['full_name'] === null ? null : str(u['full_name']),
      email: u['email'] === null ? null : str(u['email']),
      metadata: isObject(u['metadata']) ? { ...u['metadata'] } : {},
      enabled: u['enabled'] !== false,
      reserved: false,
    });
  }
  for (const [name, role] of entries(raw['roles'])) realm.roles.set(name, parseRoleDescriptor(role));
  for (const k of list(raw['apiKeys'])) {
    const descriptors: StoredApiKey['roleDescriptors'] = {};
    for (const [name, d] of entries(k['roleDescriptors'])) descriptors[name] = parseRoleDescriptor(d);
    realm.apiKeys.set(str(k['id']), {
      id: str(k['id']),
      name: str(k['name']),
      key: str(k['key']),
      owner: str(k['owner']),
      roleDescriptors: descriptors,
      limitedBy: list(k['limitedBy']).map(parseRoleDescriptor),
      metadata: isObject(k['metadata']) ? { ...k['metadata'] } : {},
      creation: Number(k['creation']),
      expiration: typeof k['expiration'] === 'number' ? k['expiration'] : null,
      invalidated: k['invalidated'] === true,
    });
  }
  for (const [name, body] of entries(raw['indexTemplates'])) store.indexTemplates.set(name, body);
  for (const [name, body] of entries(raw['componentTemplates'])) store.componentTemplates.set(name, body);
  for (const [name, p] of entries(raw['ilmPolicies'])) {
    store.ilmPolicies.set(name, {
      policy: isObject(p['policy']) ? p['policy'] : {},
      version: Number(p['version']),
      modified: str(p['modified']),
    });
  }
  for (const s of list(raw['dataStreams']))
    store.dataStreams.set(str(s['name']), {
      name: str(s['name']),
      template: str(s['template']),
      backingIndices: strings(s['backingIndices']),
    });
  for (const i of list(raw['indices'])) loadIndex(store, i);
}

function loadIndex(store: DocumentStore, i: JsonObject): void {
  const index = store.createIndex(
    str(i['name']),
    i['dataStream'] === null ? undefined : str(i['dataStream']),
    undefined,
  );
  Object.assign(index, {
    uuid: str(i['uuid']),
    dynamicTemplates: i['dynamicTemplates'],
    replicas: Number(i['replicas']),
  });
  for (const f of Array.isArray(i['fields']) ? i['fields'] : []) {
    if (Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'string') index.fields.set(f[0], f[1]);
  }
  for (const d of Array.isArray(i['docs']) ? i['docs'] : []) {
    if (Array.isArray(d) && typeof d[0] === 'string' && typeof d[1] === 'number' && isObject(d[2]))
      index.docs.set(d[0], { seqNo: d[1], source: d[2] });
  }
  index.nextSeqNo = Number(i['nextSeqNo']);
}
