import { maxEventDepth, unindexableReason } from '../../../../forwarder/transform/hostile';

describe('unindexableReason (what JSON.parse accepts but a document must not carry)', () => {
  const check = (line: string): string | undefined => unindexableReason(line, JSON.parse(line));

  it('refuses numbers outside float64 (Infinity would be indexed as null) and nesting past the bound', () => {
    expect(check('{"d":1e400}')).toMatch(/float64/);
    expect(check(`{"n":[${'9'.repeat(400)}]}`)).toMatch(/float64/);
    expect(check(`${'['.repeat(maxEventDepth + 1)}${']'.repeat(maxEventDepth + 1)}`)).toMatch(
      /nesting deeper than 1000/,
    );
  });

  it('lets ordinary lines through, big but finite numbers and deep-but-allowed nesting included', () => {
    expect(check('{"transaction":{"duration":1.5,"timestamp":1700000000000000}}')).toBeUndefined();
    expect(check('{"d":1e300,"e":1e-400}')).toBeUndefined();
    expect(check(`${'['.repeat(maxEventDepth - 1)}${']'.repeat(maxEventDepth - 1)}`)).toBeUndefined();
  });
});
