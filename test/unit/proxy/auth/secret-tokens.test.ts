import crypto from 'node:crypto';
import { SecretTokenVerifier } from '../../../../proxy/auth/secret-tokens';

describe('SecretTokenVerifier', () => {
  it('matches any of several active tokens and reports its position, for rotation without downtime', () => {
    const verifier = new SecretTokenVerifier(['old-token', 'new-token']);
    expect(verifier.match('old-token')).toBe(0);
    expect(verifier.match('new-token')).toBe(1);
    expect(verifier.match('other')).toBeUndefined();
    expect(verifier.configured).toBe(true);
  });

  it('refuses prefixes, extensions, case changes and the empty string', () => {
    const verifier = new SecretTokenVerifier(['s3cret']);
    for (const candidate of ['s3cre', 's3crett', 'S3CRET', '', ' s3cret']) expect(verifier.match(candidate)).toBeUndefined();
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
