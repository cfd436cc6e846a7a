import { type CidrBlock, parseCidr } from '../../../../core/cidr';
import { forwardedChain, TrustedProxies } from '../../../../proxy/auth/client-ip';
import { CorsPolicy, globToRegExp } from '../../../../proxy/rum/cors';

/** The blocks config/runtime.ts parses server.allowed_networks / trusted_proxies into. */
const blocks = (cidrs: readonly string[]): CidrBlock[] => cidrs.map((cidr) => parseCidr(cidr));

describe('CorsPolicy', () => {
  it('glob-matches origins; "*" allows any, even none', () => {
    const policy = new CorsPolicy({
      allowOrigins: ['https://*.shop.example', 'http://localhost:?000'],
      allowHeaders: [],
    });
    expect(policy.allows('https://www.shop.example')).toBe(true);
    expect(policy.allows('https://shop.example')).toBe(false);
    expect(policy.allows('http://localhost:3000')).toBe(true);
    expect(policy.allows('http://localhost:30000')).toBe(false);
    expect(policy.allows('https://evil.example/?x=.shop.example')).toBe(false);
    expect(policy.allows(undefined)).toBe(false);
    expect(new CorsPolicy({ allowOrigins: ['*'], allowHeaders: [] }).allows(undefined)).toBe(true);
    expect(globToRegExp('a.b').test('aXb')).toBe(false);
  });

  it("answers a preflight with APM Server's headers, echoing only an allowed origin", () => {
    const policy = new CorsPolicy({ allowOrigins: ['https://shop.example'], allowHeaders: ['X-Custom'] });
    expect(policy.preflightHeaders('https://shop.example')).toEqual({
      'Access-Control-Allow-Origin': 'https://shop.example',
      'Access-Control-Max-Age': '3600',
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'X-Custom, Content-Type, Content-Encoding, Accept',
      'Access-Control-Expose-Headers': 'Etag',
    });
    expect(policy.preflightHeaders('https://evil.example')['Access-Control-Allow-Origin']).toBeUndefined();
  });
});

describe('TrustedProxies', () => {
  it('never believes headers by default', () => {
    const none = new TrustedProxies([]);
    expect(none.clientIp('203.0.113.9', { 'x-forwarded-for': '1.2.3.4' })).toBe('203.0.113.9');
  });

  it('walks X-Forwarded-For from the right past trusted proxies only', () => {
    const trusted = new TrustedProxies(blocks(['10.0.0.0/8']));
    expect(trusted.clientIp('10.0.0.5', { 'x-forwarded-for': '1.1.1.1, 198.51.100.7, 10.0.0.9' })).toBe('198.51.100.7');
    expect(trusted.clientIp('10.0.0.5', {})).toBe('10.0.0.5');
    expect(trusted.clientIp('198.51.100.1', { 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.1');
    expect(trusted.clientIp('10.0.0.5', { 'x-forwarded-for': '10.0.0.7' })).toBe('10.0.0.7');
  });

  it('prefers Forwarded (RFC 7239) and reads its quoted, bracketed and ported forms', () => {
    expect(
      forwardedChain({
        forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"',
        'x-forwarded-for': '9.9.9.9',
      }),
    ).toEqual(['192.0.2.60', '2001:db8:cafe::17']);
    expect(forwardedChain({ 'x-forwarded-for': '1.2.3.4:80, garbage, 5.6.7.8' })).toEqual(['5.6.7.8']);
    const trusted = new TrustedProxies(blocks(['127.0.0.1/32']));
    expect(trusted.clientIp('127.0.0.1', { forwarded: 'for=192.0.2.60' })).toBe('192.0.2.60');
  });
});
