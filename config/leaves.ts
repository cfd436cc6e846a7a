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

interface LeafShape {
  doc?: string;
  default: unknown;
  format?: unknown;
  env?: string;
  sensitive?: boolean;
}

function isLeaf(node: object): node is LeafShape {
  return 'default' in node;
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

function walk(node: object, prefix: string, out: ConfigLeaf[]): void {
  for (const [name, child] of Object.entries(node) as Array<[string, unknown]>) {
    if (child === null || typeof child !== 'object') continue;
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (isLeaf(child)) {
      out.push({
        key,
        env: child.env ?? defaultEnvName(key),
        doc: child.doc ?? '',
        format: describeFormat(child.format),
        default: child.default,
        sensitive: child.sensitive === true,
      });
    } else {
      walk(child, key, out);
    }
  }
}

/** Every key of the schema in declaration order. */
export function configLeaves(): ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  walk(schema, '', out);
  return out;
}

/** The value at a dotted key ("server.ssl.key") of the configuration or a copy of it; undefined off its shape. */
export function valueAt(config: unknown, key: string): unknown {
  let node = config;
  for (const part of key.split('.')) node = isRecord(node) ? node[part] : undefined;
  return node;
}

let envByKey: ReadonlyMap<string, string> | undefined;

/** "server.ssl.key (APM_SIDECAR_SSL_KEY)": how an operator message names a setting, file key and variable. */
export function settingName(key: string): string {
  envByKey ??= new Map(configLeaves().map((leaf) => [leaf.key, leaf.env]));
  const env = envByKey.get(key);
  return env === undefined ? key : `${key} (${env})`;
}
