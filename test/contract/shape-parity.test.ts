import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';

import { writerRole } from '../../elasticsearch/setup/roles';
import { provisionTestPrincipals, type TestPrincipals } from '../support/elasticsearch/principals';
import { type EsCredentials, type EsTarget, esTarget, realTargetAvailable } from '../support/es-target';

/**
 * The same raw requests against the real node and the stand-in; the statuses and the shapes of the bodies
 * (keys and value types, not values) must be equal. The real node is the reference.
 */
interface Side {
  readonly target: EsTarget;
  readonly principals: TestPrincipals;
}

type Who = keyof Omit<TestPrincipals, 'admin'> | 'admin' | 'wrongPassword' | 'wrongApiKey';

interface Call {
  readonly name: string;
  readonly who: Who;
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly bulk?: unknown[];
  /** Sent as is, without a content-type header. */
  readonly rawBody?: string;
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (typeof value === 'object' && value !== null) {
    // Generated ids as keys (node ids) are values, not shape.
    const keyOf = (k: string): string => (/^[A-Za-z0-9_-]{22}$/.test(k) ? '<id>' : k);
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [keyOf(k), shape(Object.entries(value).find(([key]) => key === k)?.[1])]),
    );
  }
  return value === null ? 'null' : typeof value;
}

function credentials(side: Side, who: Who): EsCredentials {
  if (who === 'wrongPassword') return { username: 'apm_sidecar_test_writer', password: 'wrong' };
  if (who === 'wrongApiKey') return { apiKey: Buffer.from('nosuchid:nosuchkey').toString('base64') };
  return side.principals[who];
}

async function perform(
  side: Side,
  call: Call,
  clients: Map<string, Client>,
): Promise<{ status: number; body: unknown }> {
  const key = `${side.target.kind}:${call.who}`;
  const client = clients.get(key) ?? side.target.client(credentials(side, call.who));
  clients.set(key, client);
  try {
    const payload =
      call.bulk !== undefined
        ? { bulkBody: `${call.bulk.map((line) => JSON.stringify(line)).join('\n')}\n` }
        : call.body !== undefined
          ? { body: JSON.stringify(call.body) }
          : call.rawBody !== undefined
            ? { body: call.rawBody }
            : {};
    const headers = call.body !== undefined ? { 'content-type': 'application/json' } : {};
    const res = await client.transport.request<unknown>(
      { method: call.method, path: call.path, ...payload },
      { meta: true, headers },
    );
    return { status: res.statusCode ?? 0, body: res.body };
  } catch (err) {
    if (err instanceof errors.ResponseError) return { status: err.meta.statusCode ?? 0, body: err.meta.body };
    throw err;
  }
}

const stream = `traces-apm-parity${Date.now().toString(36)}`;
const ts = '2026-01-01T00:00:00.000Z';

const calls: Call[] = [
  { name: 'authenticate (user)', who: 'writer', method: 'GET', path: '/_security/_authenticate' },
  { name: 'authenticate (API key)', who: 'agentApiKey', method: 'GET', path: '/_security/_authenticate' },
  { name: 'authenticate (wrong password)', who: 'wrongPassword', method: 'GET', path: '/_security/_authenticate' },
  { name: 'authenticate (unknown API key)', who: 'wrongApiKey', method: 'GET', path: '/_security/_authenticate' },
  {
    name: 'bulk with filter_path',
    who: 'writer',
    method: 'POST',
    path: `/_bulk?filter_path=errors,items.*.status,items.*.error.type`,
    bulk: [{ create: { _index: stream, _id: '1' } }, { '@timestamp': ts }],
  },
  {
    name: 'has_privileges',
    who: 'writer',
    method: 'POST',
    path: '/_security/user/_has_privileges',
    body: {
      cluster: ['monitor'],
      index: [{ names: ['traces-apm*'], privileges: ['create_doc'] }],
      application: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }],
    },
  },
  {
    name: 'bulk (201, 409, mapping error, no timestamp)',
    who: 'writer',
    method: 'POST',
    path: '/_bulk',
    bulk: [
      { create: { _index: stream, _id: '1' } },
      { '@timestamp': ts, n: 1 },
      { create: { _index: stream, _id: '1' } },
      { '@timestamp': ts },
      { create: { _index: stream, _id: '2' } },
      { '@timestamp': ts, n: 'x' },
      { create: { _index: stream, _id: '3' } },
      { n: 2 },
    ],
  },
  {
    name: 'bulk without any write privilege',
    who: 'noCreateDoc',
    method: 'POST',
    path: '/_bulk',
    bulk: [{ create: { _index: stream, _id: '4' } }, { '@timestamp': ts }],
  },
  { name: 'refresh', who: 'admin', method: 'POST', path: `/${stream}/_refresh` },
  { name: 'count', who: 'reader', method: 'GET', path: `/${stream}/_count` },
  {
    name: 'search',
    who: 'reader',
    method: 'POST',
    path: `/${stream}/_search`,
    body: { size: 1, query: { term: { n: 1 } } },
  },
  {
    name: 'search of a missing index',
    who: 'admin',
    method: 'POST',
    path: '/apm-sidecar-missing-index/_search',
    body: {},
  },
  { name: 'put role', who: 'admin', method: 'PUT', path: '/_security/role/apm_sidecar_parity', body: writerRole },
  { name: 'get role', who: 'admin', method: 'GET', path: '/_security/role/apm_sidecar_parity' },
  { name: 'get missing role', who: 'admin', method: 'GET', path: '/_security/role/apm_sidecar_parity_missing' },
  {
    name: 'put role without manage_security',
    who: 'writer',
    method: 'PUT',
    path: '/_security/role/apm_sidecar_parity',
    body: writerRole,
  },
  {
    name: 'put user',
    who: 'admin',
    method: 'PUT',
    path: '/_security/user/apm_sidecar_parity',
    body: { password: 'parity-password', roles: ['apm_sidecar_parity'] },
  },
  { name: 'get user', who: 'admin', method: 'GET', path: '/_security/user/apm_sidecar_parity' },
  {
    name: 'create API key',
    who: 'admin',
    method: 'POST',
    path: '/_security/api_key',
    body: { name: 'apm-sidecar-parity' },
  },
  {
    name: 'invalidate API key by name',
    who: 'admin',
    method: 'DELETE',
    path: '/_security/api_key',
    body: { name: 'apm-sidecar-parity' },
  },
  {
    name: 'put index template',
    who: 'admin',
    method: 'PUT',
    path: '/_index_template/apm-sidecar-parity',
    body: { index_patterns: ['apm-sidecar-parity-*'], data_stream: {}, priority: 5 },
  },
  {
    name: 'put index template again with create=true',
    who: 'admin',
    method: 'PUT',
    path: '/_index_template/apm-sidecar-parity?create=true',
    body: { index_patterns: ['apm-sidecar-parity-*'], data_stream: {}, priority: 5 },
  },
  { name: 'get index template', who: 'admin', method: 'GET', path: '/_index_template/apm-sidecar-parity' },
  { name: 'get index templates by wildcard', who: 'admin', method: 'GET', path: '/_index_template/*parity*' },
  {
    name: 'get index templates by wildcard, none',
    who: 'admin',
    method: 'GET',
    path: '/_index_template/*nothing-matches*',
  },
  {
    name: 'node modules (setup capability check)',
    who: 'admin',
    method: 'GET',
    path: '/_nodes?filter_path=nodes.*.modules.name',
  },
  {
    name: 'has_privileges as the agent key (proxy API-key check)',
    who: 'agentApiKey',
    method: 'POST',
    path: '/_security/user/_has_privileges',
    body: {
      application: [
        { application: 'apm', privileges: ['event:write', 'config_agent:read', 'sourcemap:write'], resources: ['-'] },
      ],
    },
  },
  {
    name: 'get missing index template',
    who: 'admin',
    method: 'GET',
    path: '/_index_template/apm-sidecar-parity-missing',
  },
  {
    name: 'put component template',
    who: 'admin',
    method: 'PUT',
    path: '/_component_template/apm-sidecar-parity',
    body: { template: { settings: { number_of_shards: 1 } } },
  },
  {
    name: 'put component template again with create=true',
    who: 'admin',
    method: 'PUT',
    path: '/_component_template/apm-sidecar-parity?create=true',
    body: { template: { settings: { number_of_shards: 1 } } },
  },
  { name: 'get component template', who: 'admin', method: 'GET', path: '/_component_template/apm-sidecar-parity' },
  { name: 'body without content-type', who: 'admin', method: 'POST', path: '/_count', rawBody: '{}' },
];

(realTargetAvailable() ? describe : describe.skip)('stand-in response shapes equal the real node', () => {
  let real: Side;
  let standin: Side;
  const results = new Map<
    string,
    { real: { status: number; body: unknown }; standin: { status: number; body: unknown } }
  >();
  const clients = new Map<string, Client>();

  beforeAll(async () => {
    const [r, s] = await Promise.all([esTarget('real'), esTarget('standin')]);
    if (r === undefined || s === undefined) throw new Error('targets missing');
    real = { target: r, principals: await provisionTestPrincipals(r) };
    standin = { target: s, principals: await provisionTestPrincipals(s) };
    for (const call of calls)
      results.set(call.name, {
        real: await perform(real, call, clients),
        standin: await perform(standin, call, clients),
      });
  }, 240_000);
  afterAll(async () => {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    await Promise.allSettled([real?.target.close(), standin?.target.close()]);
  });

  test.each(calls.map((c) => c.name))('%s', (name) => {
    const result = results.get(name);
    expect(result).toBeDefined();
    expect({ status: result?.standin.status, shape: shape(result?.standin.body) }).toEqual({
      status: result?.real.status,
      shape: shape(result?.real.body),
    });
  });
});
