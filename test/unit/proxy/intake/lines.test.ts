import { LineSplitter } from '../../../../proxy/intake/lines';
import { chunked } from './helpers';

function split(body: string, maxEventSize: number, chunkSize: number): string[] {
  const out: string[] = [];
  const splitter = new LineSplitter(maxEventSize, {
    line: (line, ordinal, terminated) => out.push(`${ordinal}:${line.toString()}${terminated ? '' : '$'}`),
    tooLarge: (head, ordinal) => out.push(`${ordinal}!${head.toString()}`),
  });
  for (const chunk of chunked(Buffer.from(body), chunkSize)) splitter.push(chunk);
  splitter.end();
  return out;
}

describe('LineSplitter', () => {
  test.each([1, 2, 3, 7, 100])('same lines whatever the chunk size (%i)', (size) => {
    expect(split('ab\n\ncd\nlast', 5, size)).toEqual(['0:ab', '1:', '2:cd', '3:last$']);
  });

  test.each([1, 3, 100])(
    'a line reaching maxEventSize is too large, reported with its head, and skipped (%i)',
    (size) => {
      expect(split('abcd\nabcde\nxyzxyzxyz\nok\n', 5, size)).toEqual(['0:abcd', '1!abcde', '2!xyzxy', '3:ok']);
    },
  );

  test('a too-large last line without newline', () => {
    expect(split('ok\n0123456789', 5, 4)).toEqual(['0:ok', '1!01234']);
  });
});
