import crypto from 'node:crypto';
import fs from 'node:fs';

import type { Logger } from 'pino';

import { parseTokenList } from '../../config/formats';
import type { SecretTokenEntry } from '../../config/schema/server-auth';

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
  private known: readonly KnownToken[];

  constructor(tokens: readonly SecretTokenEntry[]) {
    this.known = SecretTokenVerifier.compile(tokens);
  }

  private static compile(tokens: readonly SecretTokenEntry[]): KnownToken[] {
    return tokens.map((entry) => ({ digest: digest(tokenValue(entry)), identity: tokenIdentity(entry) }));
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
    this.known = SecretTokenVerifier.compile(tokens);
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

/** A token file's content (the syntax of config/formats.ts parseTokenList). */
const parseTokenFile = parseTokenList;

/**
 * Reloads the token list from its file when the file changes (polled, as certificates are: an atomic rename by
 * a secret manager is seen too) and on SIGHUP, without a restart. A file that cannot be read or holds no token
 * is logged and the previous list kept: a rotation mistake must not lock every agent out.
 */
export class TokenFileWatcher {
  private closed = false;
  private readonly onSignal = (): void => this.reload('SIGHUP');
  private readonly onChange = (): void => this.reload('file change');

  constructor(
    private readonly file: string,
    private readonly verifier: SecretTokenVerifier,
    private readonly logger: Logger,
    private readonly pollIntervalMs: number,
  ) {}

  start(): void {
    if (this.pollIntervalMs > 0)
      fs.watchFile(this.file, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
    process.on('SIGHUP', this.onSignal);
  }

  reload(reason: string): void {
    if (this.closed) return;
    let entries: SecretTokenEntry[];
    try {
      entries = parseTokenFile(fs.readFileSync(this.file, 'utf8'));
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.unwatchFile(this.file, this.onChange);
    process.off('SIGHUP', this.onSignal);
  }
}
