import { CachingApiKeyVerifier, decodeApiKey, parseApplicationPrivileges, type ApiKeyPrivilege, type PrivilegeLookup } from '../../../../proxy/auth/api-key-verifier';
import { SidecarError } from '../../../../core/errors';

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
    if (granted === undefined || granted === 'revoked') return { kind: 'unauthorized', reason: 'API key is unknown, expired or invalidated' };
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
    await expect(v.verify('not base64 at all!', 'event:write')).resolves.toMatchObject({ kind: 'unauthorized', reason: 'malformed API key' });
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

  it('refuses more than `limit` distinct keys a minute with 429, while cached keys keep working', async () => {
    const cluster = fakeCluster({ a: ['event:write'], b: ['event:write'], c: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 600_000, limit: 2, now });
    await v.verify(key('a'), 'event:write');
    await v.verify(key('b'), 'event:write');
    await expect(v.verify(key('c'), 'event:write')).rejects.toMatchObject({ code: 'SIDECAR_ERR_RATE_LIMITED', status: 429 });
    await expect(v.verify(key('a'), 'event:write')).resolves.toMatchObject({ kind: 'ok' });
    clock += 60_000;
    await expect(v.verify(key('c'), 'event:write')).resolves.toMatchObject({ kind: 'ok' });
  });

  it('does not cache an unreachable cluster: 503 now, verified once it is back', async () => {
    const cluster = fakeCluster({ a: ['event:write'] });
    const v = new CachingApiKeyVerifier(cluster.lookup, { cacheTtlMs: 60_000, limit: 100, now });
    cluster.setDown(true);
    await expect(v.verify(key('a'), 'event:write')).rejects.toMatchObject({ code: 'SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE', status: 503 });
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
