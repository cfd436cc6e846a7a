import { isRecord } from '../core/parse';
import { schema } from './schema';

/** One configurable key of the schema, as docs and checks see it. */
export interface ConfigLeaf {
  readonly key: string;
  readonly env: string;
  readonly doc: string;
  readonly format: string;
  readonly default: unknown;
  readonly sensitive: boolean;
}

function describeFormat(format: unknown): string {
  if (Array.isArray(format)) return format.map(String).join(' | ');
  if (typeof format === 'function') return format.name.toLowerCase();
  return typeof format === 'string' ? format : 'any';
}

/** Environment name for a key without one in the SPEC: APM_SIDECAR_ + the key path in upper snake case. */
export function defaultEnvName(key: string): string {
  return `APM_SIDECAR_${key.replace(/\./g, '_').toUpperCase()}`;
}

/** Every key of the schema (or under one of its nodes) in declaration order. */
export function configLeaves(node: Record<string, unknown> = schema, prefix = ''): ConfigLeaf[] {
  return Object.entries(node).flatMap(([name, child]): ConfigLeaf[] => {
    if (!isRecord(child)) return [];
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (!('default' in child)) return configLeaves(child, key);
    const env = typeof child.env === 'string' ? child.env : defaultEnvName(key);
    const doc = typeof child.doc === 'string' ? child.doc : '';
    const sensitive = child.sensitive === true;
    return [{ key, env, doc, format: describeFormat(child.format), default: child.default, sensitive }];
  });
}

/** The value at a dotted key ("server.ssl.key") of the configuration or a copy of it; undefined off its shape. */
export function valueAt(config: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (isRecord(node) ? node[part] : undefined), config);
}

/** "server.ssl.key (APM_SIDECAR_SSL_KEY)": how an operator message names a setting, file key and variable. */
export function settingName(key: string): string {
  const env = configLeaves().find((leaf) => leaf.key === key)?.env;
  return env === undefined ? key : `${key} (${env})`;
}
