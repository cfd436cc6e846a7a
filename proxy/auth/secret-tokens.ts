import crypto from 'node:crypto';
import fs from 'node:fs';

import type { Logger } from 'pino';

import { parseTokenList } from '../../config/formats';
import type { SecretTokenEntry } from '../../config/schema/server-auth';
import { FileReloader } from '../file-reloader';

/**
 * Checks an agent's secret token against every configured one (several may be active during a rotation).
 * Each candidate is hashed first so timingSafeEqual always compares two 32-byte digests: neither the length
 * nor the content of a configured token leaks through response times, and every token is compared on every
 * call so the position of a match does not leak either.
 *
 * Identity: what logs and jobs record of the token that matched. A named entry ({name, token}) is its name; a
 * plain token is a short hash of it ("token-" + 8 hex digits of a domain-separated SHA-256), never the token
 * and never its position in the list, so the identity survives a rotation that reorders or shortens the list.
 */
interface KnownToken {
  readonly digest: Buffer;
  readonly identity: string;
}

export function tokenValue(entry: SecretTokenEntry): string {
  return typeof entry === 'string' ? entry : entry.token;
}

/** The identity of a configured token (see above). */
export function tokenIdentity(entry: SecretTokenEntry): string {
  if (typeof entry !== 'string' && entry.name !== '') return entry.name;
  const hash = crypto
    .createHash('sha256')
    .update('apm-sidecar secret token identity\0')
    .update(tokenValue(entry), 'utf8')
    .digest('hex');
  return `token-${hash.slice(0, 8)}`;
}

export class SecretTokenVerifier {
  private known: readonly KnownToken[] = [];

  constructor(tokens: readonly SecretTokenEntry[]) {
    this.replace(tokens);
  }

  get configured(): boolean {
    return this.known.length > 0;
  }

  /** The identities of the configured tokens, in order (for logs; never the values). */
  get identities(): string[] {
    return this.known.map((k) => k.identity);
  }

  /** Swaps the whole list at once (a reload): requests after it see only the new tokens. */
  replace(tokens: readonly SecretTokenEntry[]): void {
    this.known = tokens.map((entry) => ({ digest: digest(tokenValue(entry)), identity: tokenIdentity(entry) }));
  }

  /** The identity of the matching token, or undefined. */
  match(candidate: string): string | undefined {
    const presented = digest(candidate);
    let found: string | undefined;
    for (const known of this.known) {
      if (crypto.timingSafeEqual(known.digest, presented) && found === undefined) found = known.identity;
    }
    return found;
  }
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Reloads the token list from its file (see FileReloader), without a restart. A file that cannot be read or holds
 * no token is logged and the previous list kept: a rotation mistake must not lock every agent out.
 */
export class TokenFileWatcher extends FileReloader {
  constructor(
    private readonly file: string,
    private readonly verifier: SecretTokenVerifier,
    private readonly logger: Logger,
    pollIntervalMs: number,
  ) {
    super([file], pollIntervalMs);
  }

  protected apply(reason: string): void {
    let entries: SecretTokenEntry[];
    try {
      // A token file's content has the syntax of config/formats.ts parseTokenList.
      entries = parseTokenList(fs.readFileSync(this.file, 'utf8'));
    } catch (err) {
      this.logger.warn(
        { reason, file: this.file, code: (err as NodeJS.ErrnoException).code },
        'secret token file unreadable; keeping the previous tokens',
      );
      return;
    }
    if (entries.length === 0) {
      this.logger.warn({ reason, file: this.file }, 'secret token file holds no token; keeping the previous tokens');
      return;
    }
    this.verifier.replace(entries);
    this.logger.info({ reason, file: this.file, identities: this.verifier.identities }, 'secret tokens reloaded');
  }
}
