import { digitRunFlags, mayHoldUnsafeInteger, mayOverflowFloat } from '../../../../forwarder/transform/digit-runs';

/** What the flags must never miss, computed the slow and exact way. */
function exactFlags(token: string): number {
  let flags = 0;
  if (!Number.isFinite(Number(token))) flags |= mayOverflowFloat;
  if (/^-?\d+$/.test(token)) {
    const value = BigInt(token);
    if ((value < 0n ? -value : value) > 2n ** 53n) flags |= mayHoldUnsafeInteger;
  }
  return flags;
}

/** A JSON number of `intDigits` integer digits, maybe a fraction and an exponent (deterministic from `seed`). */
function numberToken(seed: number, intDigits: number): string {
  let x = seed;
  const next = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  let text = next(4) === 0 ? '-' : '';
  text += String(1 + next(9));
  for (let i = 1; i < intDigits; i++) text += String(next(10));
  if (next(3) === 0) text += `.${String(next(1000))}`;
  if (next(2) === 0) text += `${next(2) === 0 ? 'e' : 'E'}${['', '+', '-'][next(3)] ?? ''}${String(next(500))}`;
  return text;
}

describe('digitRunFlags (the one pass before the big-integer scan and the float64 check)', () => {
  it('sets no flag on an ordinary event line with its 16-digit microsecond timestamps', () => {
    const line =
      '{"span":{"id":"0123456789abcdef","timestamp":1700000000000000,"duration":12.5,"context":{"db":{"rows_affected":3}}}}';
    expect(digitRunFlags(line)).toBe(0);
  });

  it('flags integers that may exceed 2^53 and numbers that may exceed float64', () => {
    expect(digitRunFlags('{"n":9007199254740993}') & mayHoldUnsafeInteger).toBeTruthy();
    expect(digitRunFlags('{"n":-12345678901234567}') & mayHoldUnsafeInteger).toBeTruthy();
    expect(digitRunFlags('{"d":1e400}') & mayOverflowFloat).toBeTruthy();
    expect(digitRunFlags('{"d":1.5E+308}') & mayOverflowFloat).toBeTruthy();
    // 250 digits and a 2-digit exponent: 1e348, Infinity once parsed.
    const long = `{"d":${'9'.repeat(250)}e99}`;
    expect(Number.isFinite((JSON.parse(long) as { d: number }).d)).toBe(false);
    expect(digitRunFlags(long) & mayOverflowFloat).toBeTruthy();
  });

  it('does not take an "e" and 3 digits inside a hex id for an exponent, wherever a number can end', () => {
    const ids =
      '{"span":{"id":"e5867a0951e81e58","trace_id":"a22281247a0951e81e586a2aeda42e12","parent_id":"x1e400y","n":1}}';
    expect(digitRunFlags(ids)).toBe(0);
    for (const end of [',', '}', ']', ' ', '\t', '\r', '\n', ''])
      expect(digitRunFlags(`{"a":[1E-400${end}`) & mayOverflowFloat).toBeTruthy();
    expect(digitRunFlags('{"a":1e4000}') & mayOverflowFloat).toBeTruthy();
  });

  it('never misses what the exact check finds, over many generated numbers', () => {
    let checked = 0;
    for (let seed = 1; seed < 1500; seed++) {
      for (const digits of [1, 15, 16, 17, 20, 199, 200, 210, 309, 320]) {
        const token = numberToken(seed * 7 + digits, digits);
        const line = `{"transaction":{"timestamp":1700000000000000,"v":${token},"w":[1,2]}}`;
        const exact = exactFlags(token);
        expect({ token, flags: digitRunFlags(line) & exact }).toEqual({ token, flags: exact });
        if (exact !== 0) checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });
});
