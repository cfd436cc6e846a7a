/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** ` (did you mean X?)` for the known name closest to a typo, or '' when none is close (a third of its length). */
export function didYouMean(typed: string, known: readonly string[]): string {
  const lower = typed.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(lower, name.toLowerCase());
    if (best === undefined || d < best.d) best = { name, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(typed.length / 3))
    ? ` (did you mean ${best.name}?)`
    : '';
}
