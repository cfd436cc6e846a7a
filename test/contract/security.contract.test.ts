import { errors } from '@elastic/elasticsearch';

import { missingPrivileges, writerPrivileges } from '../../elasticsearch/privileges';
import { writerRole } from '../../elasticsearch/setup/roles';
import { describeEachTarget } from './targets';

async function statusOf(promise: Promise<unknown>): Promise<{ status: number | undefined; type: unknown }> {
  try {
    await promise;
    return { status: 200, type: undefined };
  } catch (err) {
    if (err instanceof errors.ResponseError) {
      const body: unknown = err.meta.body;
      const error: unknown = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
      const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
      return { status: err.meta.statusCode, type };
    }
    throw err;
  }
}

describeEachTarget('security calls', (kind, ctx) => {
  test('authenticate: reserved superuser, native user, API key', async () => {
    const { target, principals } = ctx();
    const admin = await target.client(principals.admin).security.authenticate();
    expect(admin).toMatchObject({
      username: 'elastic',
      roles: ['superuser'],
      authentication_type: 'realm',
      enabled: true,
    });
    expect(admin.authentication_realm).toEqual({ name: 'reserved', type: 'reserved' });

    const writer = await target.client(principals.writer).security.authenticate();
    expect(writer).toMatchObject({
      username: 'apm_sidecar_test_writer',
      roles: ['apm_sidecar_test_writer_role'],
      authentication_type: 'realm',
    });
    expect(writer.authentication_realm.type).toBe('native');

    const key = await target.client(principals.writerApiKey).security.authenticate();
    expect(key).toMatchObject({
      username: 'elastic',
      authentication_type: 'api_key',
      api_key: { id: principals.writerApiKey.id, name: 'apm-sidecar-test-writer' },
    });
    expect(key.authentication_realm).toEqual({ name: '_es_api_key', type: '_es_api_key' });
  });

  test('a wrong password and a wrong API key are 401 security_exception', async () => {
    const { target } = ctx();
    expect(
      await statusOf(target.client({ username: 'apm_sidecar_test_writer', password: 'wrong' }).security.authenticate()),
    ).toEqual({ status: 401, type: 'security_exception' });
    expect(
      await statusOf(
        target.client({ apiKey: Buffer.from('nosuchid:nosuchkey').toString('base64') }).security.authenticate(),
      ),
    ).toEqual({ status: 401, type: 'security_exception' });
  });

  test('has_privileges: the writer holds what the forwarder checks; the reduced user lacks create_doc', async () => {
    const { target, principals } = ctx();
    expect(await missingPrivileges(target.client(principals.writer), writerPrivileges)).toEqual([]);
    expect(await missingPrivileges(target.client(principals.writerApiKey), writerPrivileges)).toEqual([]);
    expect(await missingPrivileges(target.client(principals.noCreateDoc), writerPrivileges)).toEqual([
      'create_doc on logs-apm*',
      'create_doc on metrics-apm*',
      'create_doc on traces-apm*',
    ]);
    const reader = await missingPrivileges(target.client(principals.reader), writerPrivileges);
    expect(reader).toContain('cluster privilege monitor');
  });

  test('has_privileges: full response shape, with application privileges', async () => {
    const { target, principals } = ctx();
    const request = {
      cluster: ['monitor', 'manage_security'],
      index: [{ names: ['traces-apm*'], privileges: ['create_doc', 'auto_configure', 'read'] }],
      application: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }],
    };
    const writer = await target.client(principals.writer).security.hasPrivileges(request);
    expect(writer).toEqual({
      username: 'apm_sidecar_test_writer',
      has_all_requested: false,
      cluster: { monitor: true, manage_security: false },
      index: { 'traces-apm*': { create_doc: true, auto_configure: true, read: false } },
      application: { apm: { '-': { 'event:write': false } } },
    });
    const agent = await target.client(principals.agentApiKey).security.hasPrivileges({
      application: [{ application: 'apm', privileges: ['event:write', 'config_agent:read'], resources: ['-'] }],
    });
    expect(agent).toEqual({
      username: 'elastic',
      has_all_requested: false,
      cluster: {},
      index: {},
      application: { apm: { '-': { 'event:write': true, 'config_agent:read': false } } },
    });
  });

  test('index privilege implications the forwarder relies on', async () => {
    const { target } = ctx();
    const admin = target.client();
    await admin.security.putRole({
      name: 'apm_sidecar_test_write_only',
      indices: [{ names: ['traces-apm*'], privileges: ['write'] }],
    });
    await admin.security.putUser({
      username: 'apm_sidecar_test_write_only',
      password: 'write-only-password',
      roles: ['apm_sidecar_test_write_only'],
    });
    const res = await target
      .client({ username: 'apm_sidecar_test_write_only', password: 'write-only-password' })
      .security.hasPrivileges({
        index: [
          { names: ['traces-apm-default'], privileges: ['create_doc', 'create', 'index', 'auto_configure', 'read'] },
        ],
      });
    expect(res.index['traces-apm-default']).toEqual({
      create_doc: true,
      create: true,
      index: true,
      auto_configure: false,
      read: false,
    });
  });

  test('roles: put (created, then updated), get, delete, get missing', async () => {
    const { target } = ctx();
    const admin = target.client();
    expect(await admin.security.putRole({ name: 'apm_sidecar_test_role', ...writerRole })).toEqual({
      role: { created: true },
    });
    expect(await admin.security.putRole({ name: 'apm_sidecar_test_role', ...writerRole })).toEqual({
      role: { created: false },
    });
    const got = await admin.security.getRole({ name: 'apm_sidecar_test_role' });
    expect(got['apm_sidecar_test_role']).toMatchObject({
      cluster: ['monitor'],
      indices: [
        {
          names: ['traces-apm*', 'logs-apm*', 'metrics-apm*'],
          privileges: ['auto_configure', 'create_doc'],
          allow_restricted_indices: false,
        },
      ],
      applications: [],
      run_as: [],
      metadata: { managed_by: 'apm-sidecar' },
      transient_metadata: { enabled: true },
    });
    expect(await admin.security.deleteRole({ name: 'apm_sidecar_test_role' })).toEqual({ found: true });
    expect(await statusOf(admin.security.getRole({ name: 'apm_sidecar_test_role' }))).toEqual({
      status: 404,
      type: undefined,
    });
  });

  test('users: put, get, delete', async () => {
    const { target } = ctx();
    const admin = target.client();
    expect(
      await admin.security.putUser({
        username: 'apm_sidecar_test_tmp',
        password: 'tmp-password',
        roles: ['apm_sidecar_reader'],
      }),
    ).toEqual({ created: true });
    const got = await admin.security.getUser({ username: 'apm_sidecar_test_tmp' });
    expect(got['apm_sidecar_test_tmp']).toEqual({
      username: 'apm_sidecar_test_tmp',
      roles: ['apm_sidecar_reader'],
      full_name: null,
      email: null,
      metadata: {},
      enabled: true,
    });
    expect(await admin.security.deleteUser({ username: 'apm_sidecar_test_tmp' })).toEqual({ found: true });
  });

  test('API keys: create, use, invalidate, then 401', async () => {
    const { target } = ctx();
    const created = await target
      .client()
      .security.createApiKey({ name: 'apm-sidecar-test-tmp', role_descriptors: { writer: writerRole } });
    expect(Object.keys(created).sort()).toEqual(['api_key', 'encoded', 'id', 'name']);
    expect(Buffer.from(created.encoded, 'base64').toString()).toBe(`${created.id}:${created.api_key}`);
    const client = target.client({ apiKey: `${created.id}:${created.api_key}` });
    expect((await client.security.authenticate()).api_key?.id).toBe(created.id);
    const invalidated = await target.client().security.invalidateApiKey({ ids: [created.id] });
    expect(invalidated).toEqual({
      invalidated_api_keys: [created.id],
      previously_invalidated_api_keys: [],
      error_count: 0,
    });
    await expect(statusOf(client.security.authenticate())).resolves.toEqual({
      status: 401,
      type: 'security_exception',
    });
  });

  test('an API key is limited by its owner: it never holds more than the owner had when it was made', async () => {
    const { target } = ctx();
    const admin = target.client();
    await admin.security.putRole({
      name: 'apm_sidecar_test_key_owner',
      cluster: ['manage_own_api_key'],
      indices: [{ names: ['traces-apm*'], privileges: ['read'] }],
    });
    await admin.security.putUser({
      username: 'apm_sidecar_test_key_owner',
      password: 'key-owner-password',
      roles: ['apm_sidecar_test_key_owner'],
    });
    const owner = target.client({ username: 'apm_sidecar_test_key_owner', password: 'key-owner-password' });
    const key = await owner.security.createApiKey({
      name: 'apm-sidecar-test-limited',
      role_descriptors: {
        wants: {
          indices: [{ names: ['traces-apm*'], privileges: ['read', 'create_doc'] }],
          applications: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }],
        },
      },
    });
    const request = {
      index: [{ names: ['traces-apm-default'], privileges: ['read', 'create_doc'] }],
      application: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }],
    };
    const held = await target.client({ apiKey: key.encoded }).security.hasPrivileges(request);
    expect(held).toMatchObject({
      username: 'apm_sidecar_test_key_owner',
      has_all_requested: false,
      index: { 'traces-apm-default': { read: true, create_doc: false } },
      application: { apm: { '-': { 'event:write': false } } },
    });
    await admin.security.invalidateApiKey({ ids: [key.id] });
  });

  test('a user without manage_security gets 403 security_exception on role APIs', async () => {
    const { target, principals } = ctx();
    const res = await statusOf(target.client(principals.writer).security.putRole({ name: 'x', cluster: ['all'] }));
    expect(res).toEqual({ status: 403, type: 'security_exception' });
    void kind;
  });
});
