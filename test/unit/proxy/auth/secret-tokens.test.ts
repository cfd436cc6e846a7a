import crypto from 'node:crypto';

import { SecretTokenVerifier, tokenIdentity } from '../../../../proxy/auth/secret-tokens';

describe('SecretTokenVerifier', () => {
  it('matches any of several active tokens and reports a stable identity, for rotation without downtime', () => {
    const verifier = new SecretTokenVerifier(['old-token', 'new-token']);
    expect(verifier.match('old-token')).toBe(tokenIdentity('old-token'));
    expect(verifier.match('new-token')).toBe(tokenIdentity('new-token'));
    expect(verifier.match('other')).toBeUndefined();
    expect(verifier.configured).toBe(true);
  });

  it('identities survive rotation: a name when given, else a short hash; never the token, never a position (issue 14 item 10)', () => {
    const before = new SecretTokenVerifier(['plain-old', { name: 'ci', token: 'ci-token' }, 'plain-new']);
    const after = new SecretTokenVerifier(['plain-new', { name: 'ci', token: 'ci-token-rotated' }]);
    expect(before.match('plain-new')).toBe(after.match('plain-new'));
    expect(before.match('ci-token')).toBe('ci');
    expect(after.match('ci-token-rotated')).toBe('ci');
    const id = before.match('plain-old') ?? '';
    expect(id).toMatch(/^token-[0-9a-f]{8}$/);
    expect(id).not.toContain('plain-old');
    expect(['0', '1', '2']).not.toContain(before.match('plain-new'));
  });

  it('swaps the whole list at once on replace()', () => {
    const verifier = new SecretTokenVerifier(['a-token']);
    verifier.replace([{ name: 'b', token: 'b-token' }]);
    expect(verifier.match('a-token')).toBeUndefined();
    expect(verifier.match('b-token')).toBe('b');
  });

  it('refuses prefixes, extensions, case changes and the empty string', () => {
    const verifier = new SecretTokenVerifier(['s3cret']);
    for (const candidate of ['s3cre', 's3crett', 'S3CRET', '', ' s3cret'])
      expect(verifier.match(candidate)).toBeUndefined();
  });

  it('compares equal-length digests in constant time against every token, whatever the candidate length', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const verifier = new SecretTokenVerifier(['a', 'a much longer token than the candidate']);
      verifier.match('x');
      verifier.match('a');
      expect(spy).toHaveBeenCalledTimes(4);
      for (const [left, right] of spy.mock.calls) {
        expect((left as Buffer).length).toBe(32);
        expect((right as Buffer).length).toBe(32);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('with no tokens configured matches nothing', () => {
    const verifier = new SecretTokenVerifier([]);
    expect(verifier.configured).toBe(false);
    expect(verifier.match('')).toBeUndefined();
  });
});
