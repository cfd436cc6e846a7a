/**
 * A string function remembered for its last few hundred distinct inputs. For values that repeat across events of
 * every job (header names, client and destination addresses) but would cost a regular expression or more per
 * event. The whole memory is dropped when full, so a stream of distinct (hostile) inputs cannot grow it.
 */
export function memoizeBounded<T>(compute: (input: string) => T, capacity: number): (input: string) => T {
  // Boxed so that an undefined result is remembered too.
  const remembered = new Map<string, { readonly value: T }>();
  return (input) => {
    const known = remembered.get(input);
    if (known !== undefined) return known.value;
    const value = compute(input);
    if (remembered.size >= capacity) remembered.clear();
    remembered.set(input, { value });
    return value;
  };
}
