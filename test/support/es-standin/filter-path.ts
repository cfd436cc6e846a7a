import { isObject } from './json';

/**
 * `filter_path`: keeps only the listed dotted paths of a response; `*` matches one level, `**` any depth;
 * arrays are transparent (`items.*.status` keeps every item's status), as Elasticsearch applies it.
 */
export function applyFilterPath(value: unknown, filterPath: string | null): unknown {
  if (filterPath === null || filterPath === '') return value;
  const paths = filterPath
    .split(',')
    .map((p) => p.trim().split('.'))
    .filter((p) => p.length > 0);
  const filtered = filter(value, paths);
  return filtered === undefined ? {} : filtered;
}

function segmentMatches(segment: string, key: string): boolean {
  if (segment === '*' || segment === '**') return true;
  if (!segment.includes('*')) return segment === key;
  return new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);
}

function filter(value: unknown, paths: string[][]): unknown {
  if (paths.some((p) => p.length === 0)) return value;
  if (Array.isArray(value)) {
    const kept = value.map((v) => filter(v, paths)).filter((v) => v !== undefined);
    return kept.length === 0 ? undefined : kept;
  }
  if (!isObject(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const next: string[][] = [];
    for (const [head, ...rest] of paths) {
      if (head === undefined) continue;
      if (head === '**') {
        next.push(rest, [head, ...rest]);
      } else if (segmentMatches(head, key)) {
        next.push(rest);
      }
    }
    if (next.length === 0) continue;
    const kept = filter(child, next);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
