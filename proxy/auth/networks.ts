import net from 'node:net';

import type { CidrBlock } from '../../core/cidr';

/**
 * server.allowed_networks: a CIDR allow-list over IPv4 and IPv6. Node's BlockList matches an IPv4-mapped IPv6
 * address (::ffff:10.1.2.3, as a dual-stack socket reports an IPv4 client) against the IPv4 rules, and a rule
 * written as ::ffff:a.b.c.d/96+n against the plain IPv4 form (test/unit/proxy/auth/networks.test.ts).
 */
export class NetworkAllowList {
  private readonly blocks = new net.BlockList();
  private readonly empty: boolean;

  constructor(blocks: readonly CidrBlock[]) {
    this.empty = blocks.length === 0;
    for (const { address, prefix, family } of blocks) this.blocks.addSubnet(address, prefix, family);
  }

  /** True when every address is allowed (no list configured) or the address falls in one of the blocks. */
  allows(address: string | undefined): boolean {
    if (this.empty) return true;
    if (address === undefined) return false;
    const family = net.isIP(address);
    return family !== 0 && this.blocks.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d or ::ffff:XXXX:XXXX), if it is one. */
export function mappedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1] !== undefined && net.isIPv4(dotted[1])) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}
