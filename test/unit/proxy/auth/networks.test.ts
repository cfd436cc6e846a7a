import { type CidrBlock, parseCidr } from '../../../../core/cidr';
import { mappedIpv4, NetworkAllowList } from '../../../../proxy/auth/networks';

/** The blocks config/runtime.ts parses server.allowed_networks / trusted_proxies into. */
const blocks = (cidrs: readonly string[]): CidrBlock[] => cidrs.map((cidr) => parseCidr(cidr));

describe('NetworkAllowList', () => {
  it('allows every address when no network is configured', () => {
    const list = new NetworkAllowList([]);
    expect(list.allows('203.0.113.9')).toBe(true);
    expect(list.allows('2001:db8::1')).toBe(true);
  });

  it('checks IPv4 blocks, including single addresses written without a prefix', () => {
    const list = new NetworkAllowList(blocks(['10.0.0.0/8', '192.168.1.7']));
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('192.168.1.7')).toBe(true);
    expect(list.allows('192.168.1.8')).toBe(false);
    expect(list.allows('11.0.0.1')).toBe(false);
  });

  it('checks IPv6 blocks', () => {
    const list = new NetworkAllowList(blocks(['fd00::/8', '::1/128']));
    expect(list.allows('fd12:3456::1')).toBe(true);
    expect(list.allows('::1')).toBe(true);
    expect(list.allows('2001:db8::1')).toBe(false);
  });

  it('checks an IPv4-mapped IPv6 client (dual-stack socket) against the IPv4 blocks', () => {
    const list = new NetworkAllowList(blocks(['127.0.0.0/8']));
    expect(list.allows('::ffff:127.0.0.1')).toBe(true);
    expect(list.allows('::FFFF:7f00:1')).toBe(true);
    expect(list.allows('0:0:0:0:0:ffff:127.0.0.1')).toBe(true);
    expect(list.allows('::ffff:10.0.0.1')).toBe(false);
  });

  it('lets a rule written as a mapped IPv6 block cover the plain IPv4 form too', () => {
    const list = new NetworkAllowList(blocks(['::ffff:10.0.0.0/104']));
    expect(list.allows('10.9.9.9')).toBe(true);
    expect(list.allows('11.0.0.1')).toBe(false);
  });

  it('refuses a missing or malformed client address when a list is configured', () => {
    const list = new NetworkAllowList(blocks(['0.0.0.0/0']));
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('not-an-ip')).toBe(false);
  });

  it('extracts the IPv4 address of mapped addresses only', () => {
    expect(mappedIpv4('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(mappedIpv4('::ffff:c000:201')).toBe('192.0.2.1');
    expect(mappedIpv4('2001:db8::1')).toBeUndefined();
    expect(mappedIpv4('192.0.2.1')).toBeUndefined();
  });
});
