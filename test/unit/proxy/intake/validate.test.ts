import { checkEventLine, checkMetadataLine, identifyObjectType, rumV3 } from '../../../../proxy/intake/line-check';
import { spanLine } from './helpers';

function messageOf(line: string): string | null {
  const verdict = checkEventLine(line);
  return verdict.ok ? null : verdict.message;
}

const tx = (fields: string): string =>
  `{"transaction":{"id":"a","trace_id":"b","type":"request","duration":1,"span_count":{"started":1}${fields}}}`;

describe('intake v2 rules with APM Server wording', () => {
  test.each([
    [
      'span without parent_id',
      '{"span":{"id":"a","trace_id":"b","name":"n","type":"t","start":1,"duration":1}}',
      "validation error: span: 'parent_id' required",
    ],
    [
      'span without start or timestamp',
      '{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1}}',
      "validation error: span: requires at least one of the fields 'start;timestamp'",
    ],
    [
      'span with null name',
      spanLine('a').replace('"name":"GET /"', '"name":null'),
      "validation error: span: 'name' required",
    ],
    [
      'negative duration',
      spanLine('a').replace('"duration":2', '"duration":-1'),
      "validation error: span: 'duration': validation rule 'min(0)' violated",
    ],
    [
      'keyword over 1024',
      spanLine('a', `,"subtype":"${'x'.repeat(1025)}"`),
      "validation error: span: 'subtype': validation rule 'maxLength(1024)' violated",
    ],
    [
      'bad outcome',
      spanLine('a', ',"outcome":"meh"'),
      "validation error: span: 'outcome': validation rule 'enum(enumOutcome)' violated",
    ],
    [
      'destination without resource',
      spanLine('a', ',"context":{"destination":{"service":{"name":"x"}}}'),
      "validation error: span: context: destination: service: 'resource' required",
    ],
    [
      'stacktrace frame without file or class',
      spanLine('a', ',"stacktrace":[{"lineno":1}]'),
      "validation error: span: stacktrace: requires at least one of the fields 'classname;filename'",
    ],
    [
      'empty stacktrace frame',
      spanLine('a', ',"stacktrace":[{}]'),
      'validation error: span: stacktrace slice element required',
    ],
    ['span_count empty', tx('').replace('{"started":1}', '{}'), "validation error: transaction: 'span_count' required"],
    [
      'label of a bad type',
      tx(',"context":{"tags":{"k":[1]}}'),
      "validation error: transaction: context: 'tags': validation rule 'inputTypesVals(string;bool;number)' violated for key k",
    ],
    [
      'user id a float',
      tx(',"context":{"user":{"id":1.5}}'),
      "validation error: transaction: context: user: 'id': validation rule 'inputTypes(string;int)' violated",
    ],
    [
      'request without method',
      tx(',"context":{"request":{"url":{"full":"x"}}}'),
      "validation error: transaction: context: request: 'method' required",
    ],
    [
      'error without exception or log',
      '{"error":{"id":"a"}}',
      "validation error: error: requires at least one of the fields 'exception;log'",
    ],
    [
      'error with transaction_id but no parent',
      '{"error":{"id":"a","transaction_id":"t","trace_id":"x","log":{"message":"m"}}}',
      "validation error: error: 'parent_id' required when 'transaction_id' is set",
    ],
    [
      'metricset without samples',
      '{"metricset":{"tags":{"a":"b"}}}',
      "validation error: metricset: 'samples' required",
    ],
    [
      'metricset sample name with a quote',
      '{"metricset":{"samples":{"a\\"b":{"value":1}}}}',
      "validation error: metricset: 'samples': validation rule 'patternKeys(patternNoAsteriskQuote)' violated",
    ],
    [
      'histogram with values but no counts',
      '{"metricset":{"samples":{"h":{"values":[1]}}}}',
      "validation error: metricset: samples: 'counts' required when 'values' is set",
    ],
    [
      'id of the wrong type',
      spanLine('a').replace('"id":"a"', '"id":1'),
      'decode error: data read error: v2.spanRoot.Span: v2.span.ID: ReadString: expects " or n,',
    ],
    [
      'event that is not an object',
      '{"span":"x"}',
      'decode error: data read error: v2.spanRoot.Span: ReadMapCB: expect { or n,',
    ],
    ['broken JSON', '{"span":{"id":}}', null],
  ])('%s', (_name, line, expected) => {
    const message = messageOf(line);
    if (expected === null) expect(message).toMatch(/^decode error: data read error: /);
    else expect(message).toBe(expected);
  });

  test('valid events of every type', () => {
    expect(messageOf(spanLine('a'))).toBeNull();
    expect(messageOf(tx(',"outcome":""'))).toBeNull();
    expect(messageOf('{"error":{"id":"a","exception":{"message":"boom"}}}')).toBeNull();
    expect(messageOf('{"metricset":{"samples":{"a":{"value":1}}}}')).toBeNull();
    expect(messageOf('{"log":{"message":"hi","log.level":"info"}}')).toBeNull();
  });

  test('maxLength counts code points, as APM Server counts runes', () => {
    const astral = '\u{1F600}'; // two UTF-16 units, one code point
    const rule = "validation error: span: 'subtype': validation rule 'maxLength(1024)' violated";
    expect(messageOf(spanLine('a', `,"subtype":"${astral.repeat(1024)}"`))).toBeNull();
    expect(messageOf(spanLine('a', `,"subtype":"${'x'.repeat(1024)}"`))).toBeNull();
    expect(messageOf(spanLine('a', `,"subtype":"${astral.repeat(1025)}"`))).toBe(rule);
    expect(messageOf(spanLine('a', `,"subtype":"${'x'.repeat(1023)}${astral.repeat(2)}"`))).toBe(rule);
  });

  test('unknown and RUM v3 object types are not recognized', () => {
    expect(messageOf('{"x":{}}')).toBe('did not recognize object type: "x"');
    expect(messageOf('[1,2]')).toBe('did not recognize object type: ""');
  });

  test('metadata rules', () => {
    const meta = (service: string): string => `{"metadata":{"service":${service}}}`;
    const messages = [
      meta('{"agent":{"name":"nodejs","version":"1"}}'),
      meta('{"name":"a*b","agent":{"name":"nodejs","version":"1"}}'),
      meta('{"name":"svc","agent":{"name":"","version":"1"}}'),
      '{"m":{}}',
    ].map((line) => {
      const verdict = checkMetadataLine(line, true);
      return verdict.ok ? null : verdict.message;
    });
    expect(messages).toEqual([
      "validation error: metadata: service: 'name' required",
      "validation error: metadata: service: 'name': validation rule 'pattern(patternAlphaNumericExt)' violated",
      "validation error: metadata: service: agent: 'name': validation rule 'minLength(1)' violated",
      '"metadata" or "m" required',
    ]);
  });

  test('a metadata line judged before is judged the same again, and only that very line', () => {
    const valid = '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"1"}}}}';
    const first = checkMetadataLine(valid, true);
    expect(first.ok).toBe(true);
    expect(checkMetadataLine(valid, true)).toEqual(first);
    // Same text on the RUM v3 route, unterminated, or one character off: judged on its own.
    expect(checkMetadataLine(valid, true, rumV3)).toEqual({
      ok: false,
      code: 'SIDECAR_ERR_INVALID_INPUT',
      message: '"metadata" or "m" required',
    });
    expect(checkMetadataLine(valid, false).ok).toBe(false);
    const verdict = checkMetadataLine(valid.replace('"svc"', '"s*c"'), true);
    expect(verdict.ok ? null : verdict.message).toBe(
      "validation error: metadata: service: 'name': validation rule 'pattern(patternAlphaNumericExt)' violated",
    );
    // Many other agents' lines in between: still judged the same.
    for (let i = 0; i < 100; i++) expect(checkMetadataLine(valid.replace('"svc"', `"svc${i}"`), true).ok).toBe(true);
    expect(checkMetadataLine(valid, true)).toEqual(first);
  });

  test('object type is the first quoted string, single quotes included', () => {
    expect(identifyObjectType(`{ 'span': 1}`)).toBe('span');
    expect(identifyObjectType('{}')).toBeNull();
  });
});
