import convict from 'convict';

import { parseCidr } from '../core/cidr';
import { parseDuration } from '../core/duration';
import { asError } from '../core/errors';
import { parseHostPort } from '../core/listen';
import { isRecord } from '../core/parse';
import { PARTITION_TAGS } from '../core/partition-tags';
import { invalidConfig } from './invalid-config';
import type { SecretTokenEntry } from './schema/server-auth';

/** An env var's comma-separated list: items trimmed, empty ones dropped. */
const commaList = (value: string): string[] => value.split(',').flatMap((s) => s.trim() || []);

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  throw invalidConfig('must be a list');
}

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value !== '';
const unset = (value: unknown): boolean => value === null || value === '';

/** A format whose values `ok` accepts; any other is refused with `message`. */
function check(ok: (value: unknown) => boolean, message: string, coerce?: (text: string) => unknown): convict.Format {
  return {
    validate(value: unknown) {
      if (!ok(value)) throw invalidConfig(message);
    },
    coerce,
  };
}

/** A whole number from min to max (`note` says what the lowest means), read from the environment as text. */
function wholeNumber(min: number, max: number, note = ''): convict.Format {
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  return check(ok, `must be a whole number from ${min}${note} to ${max}`, Number);
}

/**
 * Secret tokens as text (the environment, a token file): separated by commas or new lines; "name token" names
 * one; blank lines and "#" comments skipped.
 */
export function parseTokenList(text: string): SecretTokenEntry[] {
  return text.split(/[\n,]/).flatMap((raw): SecretTokenEntry[] => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return [];
    const [name = '', token, ...rest] = line.split(/\s+/);
    return token !== undefined && rest.length === 0 ? [{ name, token }] : [line];
  });
}

/** Formats the schema uses beyond convict's built-ins; each error says what a good value looks like. */
export function registerFormats(): void {
  convict.addFormats({
    duration: {
      validate(value: unknown) {
        if (typeof value !== 'string') throw invalidConfig('must be a duration string such as "30s" or "1m"');
        parseDuration(value);
      },
    },
    'host-port': {
      validate(value: unknown) {
        if (typeof value !== 'string') throw invalidConfig('must be "host:port", e.g. "127.0.0.1:8200"');
        parseHostPort(value);
      },
    },
    'host-port-list': {
      validate(value: unknown) {
        for (const item of asList(value)) {
          // Sentinels and cluster nodes are dialled: no empty host (all interfaces) and no port 0.
          const at = typeof item === 'string' && !item.startsWith(':') ? parseHostPort(item) : undefined;
          if (at === undefined || at.port === 0)
            throw invalidConfig(`"${String(item)}" is not "host:port", e.g. "10.0.0.1:26379" or "[::1]:26379"`);
        }
      },
      coerce: commaList,
    },
    'partition-count': wholeNumber(1, PARTITION_TAGS.length),
    'worker-count': wholeNumber(1, 64),
    'string-list': check((value) => asList(value).every(nonEmpty), 'must be a list of non-empty strings', commaList),
    'secret-token-list': {
      validate(value: unknown) {
        for (const item of asList(value)) {
          const named = isRecord(item) && Object.keys(item).sort().join() === 'name,token';
          if (!nonEmpty(item) && !(named && nonEmpty(item.name) && nonEmpty(item.token)))
            throw invalidConfig('must be a list of tokens, each a non-empty string or {name, token}');
        }
      },
      coerce: parseTokenList,
    },
    'cidr-list': {
      validate(value: unknown) {
        for (const item of asList(value)) parseCidr(String(item));
      },
      coerce: commaList,
    },
    'url-list': {
      validate(value: unknown) {
        for (const item of asList(value).map(String)) {
          const protocol = URL.canParse(item) ? new URL(item).protocol : undefined;
          if (protocol === undefined) throw invalidConfig(`"${item}" is not a URL such as "https://es.example:9200"`);
          if (protocol !== 'https:' && protocol !== 'http:') throw invalidConfig(`"${item}" must be http(s)`);
        }
      },
      coerce: commaList,
    },
    'optional-url': {
      validate(value: unknown) {
        if (!unset(value) && (typeof value !== 'string' || !URL.canParse(value)))
          throw invalidConfig(`"${JSON.stringify(value)}" is not a URL such as "redis://127.0.0.1:6379"`);
      },
    },
    'gzip-level': wholeNumber(0, 9, ' (no compression)'),
    'sha256-fingerprint': check(
      (value) => unset(value) || (typeof value === 'string' && /^[0-9a-f]{64}$/i.test(value.replace(/[:\s]/g, ''))),
      'is not a SHA-256 fingerprint (64 hex digits): copy the "HTTP CA certificate SHA-256 fingerprint" Elasticsearch printed at first start, or run `openssl x509 -fingerprint -sha256 -noout -in http_ca.crt`',
    ),
    'optional-string': check((value) => value === null || typeof value === 'string', 'must be a string'),
    'header-map': {
      validate(value: unknown) {
        if (!isRecord(value))
          throw invalidConfig('must be an object of header names to string values, e.g. {"X-Frame-Options": "DENY"}');
        for (const [name, v] of Object.entries(value)) {
          if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || typeof v !== 'string' || /[\r\n]/.test(v))
            throw invalidConfig(`"${name}" must be a header name with a one-line string value`);
        }
      },
      coerce: JSON.parse,
    },
    'regex-string': {
      validate(value: unknown) {
        if (typeof value !== 'string') throw invalidConfig('must be a regular expression string');
        try {
          new RegExp(value);
        } catch (err) {
          throw invalidConfig(`"${value}" is not a regular expression: ${asError(err).message}`);
        }
      },
    },
    'optional-boolean': check(
      (value) => value === null || typeof value === 'boolean',
      'must be true or false',
      (text) => (text === '' ? null : text === 'true'),
    ),
  });
}
