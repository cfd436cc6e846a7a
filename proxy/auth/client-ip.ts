import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

import type { CidrBlock } from '../../core/cidr';
import { mappedIpv4, NetworkAllowList } from './networks';

/**
 * server.trusted_proxies: whose Forwarded / X-Forwarded-For is believed. The client is found by walking the
 * chain from the right (the hop nearest to us) past every trusted proxy; the first untrusted address is the
 * client. A peer outside the list is the client itself, whatever headers it sends: a browser on the open
 * internet must not pick its own rate-limit bucket by writing a header.
 */
export class TrustedProxies {
  private readonly list: NetworkAllowList | null;

  constructor(blocks: readonly CidrBlock[]) {
    this.list = blocks.length === 0 ? null : new NetworkAllowList(blocks);
  }

  trusts(address: string): boolean {
    return this.list !== null && this.list.allows(address);
  }

  /** The client address of a request whose socket peer is `peer` (already without a ::ffff: prefix). */
  clientIp(peer: string, headers: IncomingHttpHeaders): string {
    if (!this.trusts(peer)) return peer;
    const chain = forwardedChain(headers);
    let client = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = chain[i];
      if (hop === undefined) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(','));
}

/** An address as a header carries it: "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80", "\"[2001:db8::1]\"". */
function parseHop(raw: string): string | undefined {
  let value = raw.trim().replace(/^"|"$/g, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1] !== undefined) value = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (net.isIP(value) === 0) return undefined;
  return mappedIpv4(value) ?? value;
}

/**
 * The addresses a request passed through, oldest first: Forwarded's for= (RFC 7239) when present, else
 * X-Forwarded-For. An entry that is not an address ends the chain there (nothing left of it is believed).
 */
export function forwardedChain(headers: IncomingHttpHeaders): string[] {
  const forwarded = headerValues(headers.forwarded);
  const raw =
    forwarded.length > 0
      ? forwarded.map((element) => /(?:^|;)\s*for=([^;]*)/i.exec(element)?.[1] ?? '')
      : headerValues(headers['x-forwarded-for']);
  const chain: string[] = [];
  for (const entry of raw) {
    const hop = parseHop(entry);
    if (hop === undefined) chain.length = 0;
    else chain.push(hop);
  }
  return chain;
}
