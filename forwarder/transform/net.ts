import net from 'node:net';

/** The canonical text of an IP address (as Elasticsearch's `ip` type prints it), or undefined if s is not one. */
export function canonicalIp(s: string): string | undefined {
  // Most addresses here are host names: an IPv4 address starts with a digit and an IPv6 one has a ':', so
  // anything else is not an IP and skips net.isIP's large regular expressions.
  const first = s.charCodeAt(0);
  if (!(first >= 0x30 && first <= 0x39) && !s.includes(':')) return undefined;
  const kind = net.isIP(s);
  if (kind === 4) return s;
  if (kind !== 6) return undefined;
  return canonicalIpv6(s);
}

function canonicalIpv6(s: string): string {
  // IPv4-mapped addresses (Node reports "::ffff:10.0.0.1" on dual-stack sockets) are IPv4 to Elasticsearch and Go.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (s.includes('.')) return s.toLowerCase();
  const [head = '', tail] = s.toLowerCase().split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...new Array<string>(Math.max(missing, 0)).fill('0'), ...tailParts].map((g) =>
    parseInt(g, 16).toString(16),
  );
  // RFC 5952: compress the longest run (2+) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Splits "host:port", "[v6]:port" or a bare address into a canonical IP and port (0 when absent). */
export function splitAddrPort(addr: string): { ip: string; port: number } | undefined {
  const direct = canonicalIp(addr);
  if (direct !== undefined) return { ip: direct, port: 0 };
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(addr.trim());
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  const ip = canonicalIp(match[1]);
  return ip === undefined ? undefined : { ip, port: Number(match[2]) };
}
