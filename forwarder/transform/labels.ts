import type { JsonObject } from './json';

/** String (and boolean, as "true"/"false") labels and numeric labels, keyed as APM Server writes them. */
export interface Labels {
  readonly labels: Readonly<Record<string, string | readonly string[]>>;
  readonly numeric: Readonly<Record<string, number | readonly number[]>>;
}

export const noLabels: Labels = { labels: {}, numeric: {} };

/** APM Server replaces '.', '*' and '"' in label keys (they would nest or break the mapping). */
export function sanitizeLabelKey(key: string): string {
  return /[.*"]/.test(key) ? key.replace(/[.*"]/g, '_') : key;
}

/**
 * Merges event tags over the metadata's global labels. Null and other types are skipped, as APM Server does; a
 * key keeps whatever the other map holds (APM Server keeps both).
 */
export function mergeLabels(base: Labels, tags: JsonObject | undefined): Labels {
  if (tags === undefined) return base;
  let labels: Record<string, string | readonly string[]> | undefined;
  let numeric: Record<string, number | readonly number[]> | undefined;
  for (const rawKey in tags) {
    const value = tags[rawKey];
    const key = sanitizeLabelKey(rawKey);
    if (typeof value === 'string' || typeof value === 'boolean') {
      labels ??= { ...base.labels };
      labels[key] = String(value);
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      numeric ??= { ...base.numeric };
      numeric[key] = value;
    }
  }
  if (labels === undefined && numeric === undefined) return base;
  return { labels: labels ?? base.labels, numeric: numeric ?? base.numeric };
}

export function putLabels(doc: JsonObject, labels: Labels): void {
  for (const _ in labels.labels) {
    doc.labels = labels.labels;
    break;
  }
  for (const _ in labels.numeric) {
    doc.numeric_labels = labels.numeric;
    break;
  }
}
