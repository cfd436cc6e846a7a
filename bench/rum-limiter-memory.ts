/**
 * Memory of the anonymous RUM rate limiter per tracked client IP: fills an IpRateLimiters of ip_limit N with N
 * distinct IPv4 and IPv6 addresses, then sends 10x N more distinct IPs through it (eviction reuses buckets), and
 * prints the heap growth per tracked IP. Run: node --expose-gc --import tsx bench/rum-limiter-memory.ts
 */
import { IpRateLimiters } from '../proxy/rum/ip-rate-limiters';

function heapUsed(): number {
  const gc = global.gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) void gc();
  return process.memoryUsage().heapUsed;
}

const ipv4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const ipv6 = (i: number): string => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;

for (const [family, address] of [
  ['IPv4', ipv4],
  ['IPv6', ipv6],
] as const) {
  for (const ipLimit of [1000, 100_000]) {
    const before = heapUsed();
    const limiters = new IpRateLimiters({ eventLimit: 300, ipLimit });
    for (let i = 0; i < ipLimit; i++) limiters.allowRequest(address(i));
    const full = heapUsed();
    for (let i = ipLimit; i < ipLimit * 11; i++) limiters.allowRequest(address(i));
    const afterFlood = heapUsed();
    const perIp = (full - before) / ipLimit;
    console.log(
      `${family} ip_limit=${ipLimit}: ${perIp.toFixed(0)} bytes per tracked IP; after ${ipLimit * 10} more distinct IPs: tracked=${limiters.size}, heap ${((afterFlood - full) / 1024).toFixed(0)} KiB vs full`,
    );
  }
}
