import { closest, distance } from 'fastest-levenshtein';

/** ` (did you mean X?)` for the known name closest to a typo, or '' when none is close (a third of its length). */
export function didYouMean(typed: string, known: readonly string[]): string {
  const lower = known.map((name) => name.toLowerCase());
  const best = closest(typed.toLowerCase(), lower);
  const near = distance(typed.toLowerCase(), best) <= Math.max(2, Math.floor(typed.length / 3));
  return near ? ` (did you mean ${known[lower.indexOf(best)]}?)` : '';
}
