import net from 'node:net';

import { SidecarError } from './errors';

export interface CidrBlock {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128); the one parser of server.allowed_networks and trusted_proxies. */
export function parseCidr(text: string): CidrBlock {
  const [address = '', bits, extra] = text.split('/');
  const family = net.isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = bits === undefined ? max : Number(bits);
  if (family === 0 || extra !== undefined || bits === '' || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      `"${text}" is not a CIDR block such as "10.0.0.0/8" or "fd00::/8"`,
    );
  }
  return { address, prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
}
