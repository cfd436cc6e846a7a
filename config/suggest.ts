import { distance } from 'fastest-levenshtein';

/** ` (did you mean X?)` for the known name closest to a typo, or '' when none is close (a third of its length). */
export function didYouMean(typed: string, known: readonly string[]): string {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(typed.toLowerCase(), name.toLowerCase());
    if (best === undefined || d < best.d) best = { name, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(typed.length / 3))
    ? ` (did you mean ${best.name}?)`
    : '';
}
