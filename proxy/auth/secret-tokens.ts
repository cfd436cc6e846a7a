import crypto from 'node:crypto';

/**
 * Checks an agent's secret token against every configured one (several may be active during a rotation).
 * Each candidate is hashed first so timingSafeEqual always compares two 32-byte digests: neither the length
 * nor the content of a configured token leaks through response times, and every token is compared on every
 * call so the position of a match does not leak either.
 */
export class SecretTokenVerifier {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  /** The position of the matching token (its identity in logs and jobs, never the value), or undefined. */
  match(candidate: string): number | undefined {
    const presented = digest(candidate);
    let found: number | undefined;
    this.digests.forEach((known, index) => {
      if (crypto.timingSafeEqual(known, presented) && found === undefined) found = index;
    });
    return found;
  }
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}
