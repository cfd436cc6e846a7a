import fs from 'node:fs';

import convict from 'convict';
import { closest, distance } from 'fastest-levenshtein';

import { SidecarError } from '../core/errors';
import { isRecord } from '../core/parse';
import { redact, registerSecrets, urlUserinfo } from '../core/redact';
import { parseTokenList, registerFormats } from './formats';
import { invalidConfig, readConfigured } from './invalid-config';
import { configLeaves, defaultEnvName, valueAt } from './leaves';
import { schema, type SidecarConfig } from './schema';

/**
 * The yaml module, loaded when a YAML file is read: a process configured by its environment alone never holds
 * it. A synchronous require, because import() stays an ES module import under Node16 resolution, which jest's
 * CommonJS VM cannot run.
 */
function yaml(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  return require('yaml') as typeof import('yaml');
}

registerFormats();

/** ` (did you mean X?)` for the known name closest to a typo, or '' when none is close (a third of its length). */
function didYouMean(typed: string, known: readonly string[]): string {
  const lower = known.map((name) => name.toLowerCase());
  const best = closest(typed.toLowerCase(), lower);
  const near = distance(typed.toLowerCase(), best) <= Math.max(2, Math.floor(typed.length / 3));
  return near ? ` (did you mean ${known[lower.indexOf(best)]}?)` : '';
}

export interface LoadOptions {
  /** Config file path (--config); falls back to APM_SIDECAR_CONFIG. */
  readonly file?: string | undefined;
  /** Environment to read; process.env by default. Tests pass their own. */
  readonly env?: NodeJS.ProcessEnv;
  /** Values applied over the file and environment (used by `start` for what it generates). */
  readonly overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  readonly config: SidecarConfig;
  /** The effective configuration as JSON, secrets masked: what --print-config shows. */
  readonly printable: string;
}

/**
 * Secrets may be given as <ENV>_FILE (Docker and Kubernetes secrets): the file's content, trimmed, becomes the
 * value. Unknown APM_SIDECAR_* variables are refused so that a typo never silently leaves a default in place.
 */
function environmentFor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const leaves = configLeaves();
  const known = new Set(['APM_SIDECAR_CONFIG', ...leaves.map((l) => l.env), ...leaves.map((l) => `${l.env}_FILE`)]);
  const unknown = Object.keys(env).filter((name) => name.startsWith('APM_SIDECAR_') && !known.has(name));
  if (unknown.length > 0) {
    const named = unknown.map((name) => `${name}${didYouMean(name, [...known])}`);
    throw invalidConfig(
      `unknown environment variable ${named.join(', ')}`,
      'rename or unset it; every variable is listed in docs/configuration.md',
    );
  }
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const leaf of leaves) {
    const fileVar = env[`${leaf.env}_FILE`];
    if (fileVar === undefined || fileVar === '') continue;
    if (env[leaf.env] !== undefined)
      throw invalidConfig(`both ${leaf.env} and ${leaf.env}_FILE are set`, `unset ${leaf.env} or ${leaf.env}_FILE`);
    // The token file stays watched by the proxy (server.auth.secret_tokens_file): rotation without a restart.
    if (leaf.key === 'server.auth.secret_tokens') resolved[defaultEnvName('server.auth.secret_tokens_file')] = fileVar;
    const remediation = `make ${fileVar} readable by this process, or point ${leaf.env}_FILE at another file`;
    resolved[leaf.env] = readConfigured(fileVar, `${leaf.env}_FILE`, remediation).trim();
  }
  return resolved;
}

/**
 * Convict's lines, one per bad key: an unknown key gets the closest known one, and a bad value set by a variable
 * names the variable next to the key (the operator set the variable, not the key).
 */
function rewordConvictError(message: string, file: string | undefined, env: NodeJS.ProcessEnv): string {
  const leaves = configLeaves();
  const keys = leaves.map((l) => l.key);
  return message
    .split('\n')
    .map((line) => {
      const undeclared = /configuration param '([^']+)' not declared in the schema/.exec(line);
      if (undeclared) {
        const key = undeclared[1] ?? '';
        return `unknown key "${key}"${file ? ` in ${file}` : ''}${didYouMean(key, keys)}: remove it or check its spelling against docs/configuration.md`;
      }
      const bad = /^([a-z0-9_.]+): /.exec(line);
      const leaf = bad === null ? undefined : leaves.find((l) => l.key === bad[1]);
      if (leaf !== undefined && env[leaf.env] !== undefined) {
        return `${leaf.key} (set by ${leaf.env})${line.slice(leaf.key.length)}`;
      }
      return line;
    })
    .join('; ');
}

/** Loads, validates and freezes the configuration. Throws SIDECAR_ERR_CONFIG_INVALID naming the key and the fix. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = environmentFor(options.env ?? process.env);
  const config = convict<SidecarConfig>(withEnv(schema, '') as convict.Schema<SidecarConfig>, { env, args: [] });
  const file = options.file ?? env.APM_SIDECAR_CONFIG;
  registerConfiguredSecrets(config);
  try {
    if (file !== undefined && file !== '') {
      if (!fs.existsSync(file)) {
        throw invalidConfig(
          `config file ${file} does not exist`,
          'check the path given by --config or APM_SIDECAR_CONFIG',
        );
      }
      if (!/\.(ya?ml|json)$/i.test(file))
        throw invalidConfig(
          `config file ${file}: not .yml, .yaml or .json`,
          'rename it to end in .yml, .yaml or .json',
        );
      loadFileQuietly(config, file);
    }
    if (options.overrides) config.load(options.overrides);
    registerConfiguredSecrets(config);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof SidecarError)
      throw new SidecarError(err.code, redact(err.message), { cause: err.cause, remediation: err.remediation });
    throw invalidConfig(redact(rewordConvictError(err instanceof Error ? err.message : String(err), file, env)));
  }
  const properties = config.getProperties();
  loadTokenFile(properties);
  return { config: properties, printable: printableConfig(properties) };
}

/** server.auth.secret_tokens_file set in the file without secret_tokens: the tokens come from that file. */
function loadTokenFile(config: SidecarConfig): void {
  const file = config.server.auth.secret_tokens_file;
  if (file === null || file === '' || config.server.auth.secret_tokens.length > 0) return;
  const tokens = parseTokenList(readConfigured(file, 'server.auth.secret_tokens_file'));
  registerSecrets(tokens.map((t) => (typeof t === 'string' ? t : t.token)));
  config.server.auth.secret_tokens = tokens;
}

/**
 * The effective configuration for --print-config: a secret shows as [set] or [not set], never its value; a
 * credential inside a URL is masked by redact.
 */
function printableConfig(config: SidecarConfig): string {
  const copy = structuredClone(config);
  for (const { key } of configLeaves().filter((l) => l.sensitive)) {
    const value = valueAt(copy, key);
    const set = value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
    const parent = valueAt(copy, key.slice(0, key.lastIndexOf('.')));
    if (isRecord(parent)) parent[key.slice(key.lastIndexOf('.') + 1)] = set ? '[set]' : '[not set]';
  }
  return redact(JSON.stringify(copy, null, 2));
}

/** Names of sensitive keys (password, api_key, ...): their values are masked in a YAML error's code frame. */
const secretNames = new Set(['token', ...configLeaves().flatMap((l) => (l.sensitive ? [l.key.split('.').pop()] : []))]);
const sensitiveName = new RegExp(`^\\s*-?\\s*(${[...secretNames].join('|')})\\s*:`);

/**
 * A file that does not parse. YAML's message keeps its line, column and code frame with the caret, the values
 * of secret keys masked; JSON.parse's quotes the input, so only its position is kept.
 */
function loadFileQuietly(config: convict.Config<SidecarConfig>, file: string): void {
  try {
    const text = fs.readFileSync(file, 'utf8');
    config.load(/\.json$/i.test(file) ? JSON.parse(text) : yaml().parse(text));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const remediation = `fix the syntax of ${file} at the line shown`;
    if (/\.ya?ml$/i.test(file) && err instanceof yaml().YAMLError) {
      const frame = message
        .trimEnd()
        .split('\n')
        .map((line) => (sensitiveName.test(line) ? line.replace(/:.*$/, ': ***') : line));
      throw invalidConfig(`config file ${file} does not parse: ${redact(frame.join('\n'))}`, remediation);
    }
    const position = /line \d+, column \d+|position \d+/.exec(message.split('\n')[0] ?? '');
    throw invalidConfig(
      `config file ${file} does not parse${position === null ? '' : ` (${position[0]})`}`,
      remediation,
    );
  }
}

/**
 * Every sensitive value and every credential inside a URL-valued key, registered with core/redact so no error,
 * log line or --print-config output of this process prints them (even a value that fails validation).
 */
function registerConfiguredSecrets(config: convict.Config<SidecarConfig>): void {
  const properties = config.getProperties();
  const values: string[] = [];
  for (const leaf of configLeaves()) {
    if (!leaf.sensitive && !/url/.test(leaf.format) && !/url|hosts/.test(leaf.key)) continue;
    for (const raw of [valueAt(properties, leaf.key)].flat()) {
      const item = isRecord(raw) ? raw.token : raw;
      if (typeof item !== 'string' || item === '') continue;
      if (leaf.sensitive) values.push(item);
      const userinfo = urlUserinfo(item);
      if (userinfo !== null) values.push(userinfo);
    }
  }
  registerSecrets(values);
}

/** The schema with an env name on every leaf (the SPEC's where given, APM_SIDECAR_<PATH> otherwise). */
function withEnv(node: unknown, key: string): unknown {
  if (!isRecord(node)) return node;
  // A copy, so the shared schema keeps only the env names the SPEC gives (convict 6 clones each leaf itself).
  if ('default' in node) return { ...node, env: typeof node.env === 'string' ? node.env : defaultEnvName(key) };
  const children = Object.entries(node).map(([name, child]) => [name, withEnv(child, key ? `${key}.${name}` : name)]);
  return Object.fromEntries(children);
}
