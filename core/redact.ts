/**
 * Secrets never printed: every error message, log line and --print-config output goes through redact().
 * - URL credentials (`scheme://user:password@host`, `redis://:password@host`) become `scheme://[redacted]@host`;
 * - every value registered with registerSecrets() (the configuration's passwords, tokens, API keys and URL
 *   credentials, registered when the configuration is loaded) is masked wherever it appears, raw, base64
 *   encoded (as in an Authorization header) and percent-encoded, whatever the message that carries it.
 */

const redactedMark = '[redacted]';

/** Userinfo of a URL: between "scheme://" and the first "@" before any "/", "?", "#" or space. */
const urlCredentials = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*@/gi;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Too short a value would mask innocent text everywhere (and is no secret worth the name). */
const shortest = 4;

function add(value: string): void {
  if (value.length >= shortest) secrets.add(value);
}

/**
 * Registers values to mask from now on in this process: each as given, base64 encoded, percent-encoded, and
 * for "user:password" pairs the password alone.
 */
export function registerSecrets(values: Iterable<string | null | undefined>): void {
  for (const value of values) {
    if (value === null || value === undefined) continue;
    const trimmed = value.trim();
    if (trimmed.length < shortest) continue;
    add(trimmed);
    add(Buffer.from(trimmed, 'utf8').toString('base64'));
    add(Buffer.from(trimmed, 'utf8').toString('base64').replace(/=+$/, ''));
    add(encodeURIComponent(trimmed));
    const colon = trimmed.indexOf(':');
    if (colon > 0 && colon < trimmed.length - 1) registerSecrets([trimmed.slice(colon + 1)]);
  }
  // Longest first, so a value that contains another is masked whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

/** The credentials part of a URL-like text, even one that does not parse: what is before the host's "@". */
export function urlUserinfo(text: string): string | null {
  const afterScheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  const rest = afterScheme === null ? text : text.slice(afterScheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at <= 0) return null;
  let userinfo = authority.slice(0, at);
  try {
    userinfo = decodeURIComponent(userinfo);
  } catch {
    // keep it as written
  }
  return userinfo;
}

/** `text` with URL credentials and every registered secret masked. */
export function redact(text: string): string {
  let out = text.includes('@') ? text.replace(urlCredentials, `$1${redactedMark}@`) : text;
  if (pattern !== null) out = out.replace(pattern, redactedMark);
  return out;
}

/**
 * A copy of a log object (or any JSON-like value) with every string redacted; depth-bounded. An Error is copied
 * with its class (pino's serializer names it by its constructor), its message, stack and cause redacted.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return redactError(value, depth);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[key] = redactDeep(v, depth + 1);
  return out;
}

function redactError(err: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const [key, value] of Object.entries(err))
    (copy as unknown as Record<string, unknown>)[key] = redactDeep(value, depth + 1);
  Object.defineProperty(copy, 'message', { value: redact(err.message), enumerable: false, writable: true });
  if (err.stack !== undefined)
    Object.defineProperty(copy, 'stack', { value: redact(err.stack), enumerable: false, writable: true });
  if (err.cause !== undefined && depth < 4)
    Object.defineProperty(copy, 'cause', {
      value: redactDeep(err.cause, depth + 1),
      enumerable: false,
      writable: true,
    });
  return copy;
}
