import type { OtlpValue } from '../../../queue/otlp/model';
import { sanitizeLabelKey } from '../labels';

/** Keyword fields hold at most 1024 characters (APM Server truncates them). */
export function truncate(s: string): string {
  return s.length > 1024 ? s.slice(0, 1024) : s;
}

/**
 * labels / numeric_labels being built for one document. An attribute becomes a label as APM Server's setLabel
 * does: strings and booleans (as "true"/"false") in labels, ints and doubles in numeric_labels, arrays by their
 * first element's type; maps and bytes are dropped. Keys have their dots replaced.
 */
export class LabelSet {
  readonly labels: Record<string, string | string[]> = {};
  readonly numeric: Record<string, number | number[]> = {};

  static from(base: LabelSet | undefined): LabelSet {
    const set = new LabelSet();
    if (base !== undefined) {
      Object.assign(set.labels, base.labels);
      Object.assign(set.numeric, base.numeric);
    }
    return set;
  }

  set(rawKey: string, value: OtlpValue): void {
    const key = sanitizeLabelKey(rawKey);
    if (typeof value === 'string') this.labels[key] = truncate(value);
    else if (typeof value === 'boolean') this.labels[key] = String(value);
    else if (typeof value === 'number') {
      if (Number.isFinite(value)) this.numeric[key] = value;
    } else if (Array.isArray(value)) this.setArray(key, value);
  }

  setString(rawKey: string, value: string): void {
    this.labels[sanitizeLabelKey(rawKey)] = truncate(value);
  }

  private setArray(key: string, values: readonly OtlpValue[]): void {
    const first = values[0];
    if (typeof first === 'string' || typeof first === 'boolean') {
      this.labels[key] = values
        .filter((v) => typeof v === 'string' || typeof v === 'boolean')
        .map((v) => truncate(String(v)));
    } else if (typeof first === 'number') {
      this.numeric[key] = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    }
  }

  /** Writes labels and numeric_labels when non-empty. */
  putOn(doc: Record<string, unknown>): void {
    if (Object.keys(this.labels).length > 0) doc.labels = this.labels;
    if (Object.keys(this.numeric).length > 0) doc.numeric_labels = this.numeric;
  }
}

export function stringOf(value: OtlpValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function intOf(value: OtlpValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}
