import { SidecarError } from '../../../../core/errors';
import {
  type ApiKeyPrivilege,
  CachingApiKeyVerifier,
  decodeApiKey,
  parseApplicationPrivileges,
  type PrivilegeLookup,
} from '../../../../proxy/auth/api-key-verifier';

const key = (id: string): string => Buffer.from(`${id}:secret-${id}`).toString('base64');

function fakeCluster(grants: Record<string, ApiKeyPrivilege[] | 'revoked'>) {
  const calls: string[] = [];
  let down = false;
  const lookup: PrivilegeLookup = async (credentials) => {
    const id = decodeApiKey(credentials)?.id ?? '?';
    calls.push(id);
    await Promise.resolve();
    if (down) throw new SidecarError('SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE');
    const granted = grants[id];
    if (granted === undefined || granted === 'revoked')
      return { kind: 'unauthorized', reason: 'API key is unknown, expired or invalidated' };
    return { kind: 'known', keyId: id, granted: new Set(granted) };
  };
  return { lookup, calls, grants, setDown: (d: boolean) => (down = d) };
}

describe('CachingApiKeyVerifier', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => (clock = 1_000_000));

  it('accepts a key with event:write, forbids one without, rejects an unknown or malformed one', async () => {
    const cluster = fakeCluster({ writer: ['event:write'], reader: ['config_agent:read'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, now });
    await expect(v.verify(key('writer'), 'event:write')).resolves.toEqual({ kind: 'ok', keyId: 'writer' });
    await expect(v.verify(key('reader'), 'event:write')).resolves.toMatchObject({ kind: 'forbidden' });
    await expect(v.verify(key('reader'), 'config_agent:read')).resolves.toEqual({ kind: 'ok', keyId: 'reader' });
    await expect(v.verify(key('nobody'), 'event:write')).resolves.toMatchObject({ kind: 'unauthorized' });
    await expect(v.verify('not base64 at all!', 'event:write')).resolves.toMatchObject({
      kind: 'unauthorized',
      reason: 'malformed API key',
    });
    expect(cluster.calls).toEqual(['writer', 'reader', 'nobody']);
    await v.close();
  });

  it('caches successes and failures for the TTL, so a revocation is seen only after it', async () => {
    const cluster = fakeCluster({ a: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, now });
    await v.verify(key('a'), 'event:write');
    await v.verify(key('ghost'), 'event:write');
    cluster.grants.a = 'revoked';
    clock += 59_000;
    await expect(v.verify(key('a'), 'event:write')).resolves.toMatchObject({ kind: 'ok' });
    await expect(v.verify(key('ghost'), 'event:write')).resolves.toMatchObject({ kind: 'unauthorized' });
    expect(cluster.calls).toEqual(['a', 'ghost']);
    clock += 2_000;
    await expect(v.verify(key('a'), 'event:write')).resolves.toMatchObject({ kind: 'unauthorized' });
    expect(cluster.calls).toEqual(['a', 'ghost', 'a']);
  });

  it('shares one lookup between concurrent requests with the same key', async () => {
    const cluster = fakeCluster({ a: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, now });
    await Promise.all([1, 2, 3, 4].map(async () => v.verify(key('a'), 'event:write')));
    expect(cluster.calls).toEqual(['a']);
  });

  it('refuses a client more than `limit` distinct failing keys a minute with 429, while cached keys keep working', async () => {
    const cluster = fakeCluster({ good: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 600_000, limit: 2, now });
    await expect(v.verify(key('bad1'), 'event:write', '10.0.0.66')).resolves.toMatchObject({ kind: 'unauthorized' });
    await expect(v.verify(key('bad2'), 'event:write', '10.0.0.66')).resolves.toMatchObject({ kind: 'unauthorized' });
    await expect(v.verify(key('bad3'), 'event:write', '10.0.0.66')).rejects.toMatchObject({
      code: 'SIDECAR_ERR_RATE_LIMITED',
    });
    await expect(v.verify(key('bad1'), 'event:write', '10.0.0.66')).resolves.toMatchObject({ kind: 'unauthorized' });
    clock += 60_000;
    await expect(v.verify(key('bad3'), 'event:write', '10.0.0.66')).resolves.toMatchObject({ kind: 'unauthorized' });
  });

  it('one client flooding invalid keys never locks out a new valid key from another client (issue 14 item 9)', async () => {
    const cluster = fakeCluster({ legit: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, globalLimit: 1000, now });
    for (let i = 0; i < 100; i++) await v.verify(key(`attack${i}`), 'event:write', '6.6.6.6');
    await expect(v.verify(key('attack-more'), 'event:write', '6.6.6.6')).rejects.toMatchObject({
      code: 'SIDECAR_ERR_RATE_LIMITED',
    });
    await expect(v.verify(key('legit'), 'event:write', '10.1.1.1')).resolves.toEqual({ kind: 'ok', keyId: 'legit' });
  });

  it('valid keys spend no budget: a client with many agents behind it is never limited by its good keys', async () => {
    const grants = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`agent${i}`, ['event:write'] as ApiKeyPrivilege[]]),
    );
    const v = new CachingApiKeyVerifier(fakeCluster(grants).lookup, {
      cacheTtlMs: 60_000,
      limit: 2,
      globalLimit: 2,
      now,
    });
    for (let i = 0; i < 10; i++)
      await expect(v.verify(key(`agent${i}`), 'event:write', '10.0.0.1')).resolves.toMatchObject({ kind: 'ok' });
  });

  it('past the global ceiling only clients with a failing key are refused; clean clients are still verified', async () => {
    const v = new CachingApiKeyVerifier(fakeCluster({ legit: ['event:write'] }).lookup, {
      cacheTtlMs: 60_000,
      limit: 100,
      globalLimit: 3,
      now,
    });
    for (const client of ['6.6.6.1', '6.6.6.2', '6.6.6.3']) await v.verify(key(`bad-${client}`), 'event:write', client);
    await expect(v.verify(key('bad-again'), 'event:write', '6.6.6.1')).rejects.toMatchObject({
      code: 'SIDECAR_ERR_RATE_LIMITED',
    });
    await expect(v.verify(key('fresh-bad'), 'event:write', '6.6.6.9')).resolves.toMatchObject({ kind: 'unauthorized' });
    await expect(v.verify(key('legit'), 'event:write', '10.1.1.1')).resolves.toMatchObject({ kind: 'ok' });
  });

  it('does not cache an unreachable cluster: 503 now, verified once it is back', async () => {
    const cluster = fakeCluster({ a: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, now });
    cluster.setDown(true);
    await expect(v.verify(key('a'), 'event:write')).rejects.toMatchObject({
      code: 'SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE',
    });
    cluster.setDown(false);
    await expect(v.verify(key('a'), 'event:write')).resolves.toMatchObject({ kind: 'ok' });
  });
});

describe('API key parsing', () => {
  it('takes the id from base64(id:key) and refuses anything else', () => {
    expect(decodeApiKey(key('abc'))).toEqual({ id: 'abc' });
    expect(decodeApiKey(Buffer.from('nocolon').toString('base64'))).toBeUndefined();
    expect(decodeApiKey(Buffer.from(':key').toString('base64'))).toBeUndefined();
  });

  it('reads application.apm["-"] from _has_privileges and treats odd shapes as not granted', () => {
    const body = { application: { apm: { '-': { 'event:write': true, 'config_agent:read': false } } } };
    expect([...parseApplicationPrivileges(body)]).toEqual(['event:write']);
    expect(parseApplicationPrivileges({ application: { apm: { '-': { 'event:write': 'yes' } } } }).size).toBe(0);
    expect(parseApplicationPrivileges(null).size).toBe(0);
  });
});
