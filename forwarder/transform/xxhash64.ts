/**
 * XXH64 (seed 0), the hash APM Server uses for error grouping keys. BigInt arithmetic is slow next to native code
 * but errors are a small share of events; the output must match APM Server's bit for bit.
 */
const mask = (1n << 64n) - 1n;
const p1 = 11400714785074694791n;
const p2 = 14029467366897019727n;
const p3 = 1609587929392839161n;
const p4 = 9650029242287828579n;
const p5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & mask;
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * p2) & mask, 31n) * p1) & mask;
const mergeRound = (acc: bigint, val: bigint): bigint => ((((acc ^ round(0n, val)) * p1) & mask) + p4) & mask;

export function xxhash64Hex(data: Uint8Array): string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (p1 + p2) & mask;
    let v2 = p2;
    let v3 = 0n;
    let v4 = (mask + 1n - p1) & mask;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, view.getBigUint64(i, true));
      v2 = round(v2, view.getBigUint64(i + 8, true));
      v3 = round(v3, view.getBigUint64(i + 16, true));
      v4 = round(v4, view.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & mask;
    h = mergeRound(mergeRound(mergeRound(mergeRound(h, v1), v2), v3), v4);
  } else {
    h = p5;
  }
  h = (h + BigInt(len)) & mask;
  for (; i + 8 <= len; i += 8) h = (((rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n) * p1) & mask) + p4) & mask;
  for (; i + 4 <= len; i += 4)
    h = (((rotl(h ^ ((BigInt(view.getUint32(i, true)) * p1) & mask), 23n) * p2) & mask) + p3) & mask;
  for (; i < len; i++) h = (rotl(h ^ ((BigInt(data[i] ?? 0) * p5) & mask), 11n) * p1) & mask;
  h ^= h >> 33n;
  h = (h * p2) & mask;
  h ^= h >> 29n;
  h = (h * p3) & mask;
  h ^= h >> 32n;
  return h.toString(16).padStart(16, '0');
}
