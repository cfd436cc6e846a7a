/**
 * One pass over an event line for the two checks that only a few lines need (big-integers.ts, hostile.ts):
 * which digit runs could hold an integer beyond 2^53, and which numbers could fall outside float64. Every line
 * carries 16-digit microsecond timestamps, so the pass looks at runs of 16 digits or more and at 3-digit
 * exponents only; a typical line has two such runs and sets no flag.
 */

/** A run of 17 digits or more, or of 16 starting with 9: it may exceed 2^53 (9007199254740992). */
export const mayHoldUnsafeInteger = 1;
/**
 * An exponent of 3 digits or more, or a run of 200 digits or more: only such a number can exceed float64
 * (about 1.8e308). With an exponent of at most 2 digits (at most e99), the integer part needs more than 209
 * digits to get there; digits after the point or leading zeros never add magnitude.
 */
export const mayOverflowFloat = 2;

const overflowingRun = 200;
/**
 * A long digit run, or an exponent marker followed by 3 digits or more (its sign optional) that end where a JSON
 * number can end (whitespace, `,`, `]`, `}`, the end of the line). The end matters: hex ids and hashes hold an
 * "e" and 3 decimal digits followed by more hex in most trace events ("...e586a..."), which are no numbers.
 */
const candidates = /\d{16,}|[eE][+-]?\d{3,}(?=[\s,\]}]|$)/g;

/** The flags above that `line` may need (never a false negative; a false positive only costs the careful check). */
export function digitRunFlags(line: string): number {
  let flags = 0;
  candidates.lastIndex = 0;
  for (let m = candidates.exec(line); m !== null; m = candidates.exec(line)) {
    const text = m[0];
    const first = text.charCodeAt(0);
    if (first === 101 || first === 69) flags |= mayOverflowFloat;
    else {
      if (text.length >= 17 || first === 57) flags |= mayHoldUnsafeInteger;
      if (text.length >= overflowingRun) flags |= mayOverflowFloat;
    }
    if (flags === (mayHoldUnsafeInteger | mayOverflowFloat)) break;
  }
  return flags;
}
