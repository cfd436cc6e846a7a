import { prepareDocument } from '../../../../forwarder/output/sink';
import { createJobTransformer, type TransformContext } from '../../../../forwarder/transform';
import { unsafeIntegerLiterals } from '../../../../forwarder/transform/big-integers';

const ctx: TransformContext = {
  receivedAt: Date.UTC(2024, 4, 1, 12, 0, 0, 250),
  client: { ip: '10.1.2.3', userAgent: 'elastic-apm-node/4.18.0' },
  identity: { kind: 'secret_token', id: 't' },
  namespace: 'default',
};
const metadata = JSON.stringify({
  metadata: { service: { name: 'svc', agent: { name: 'nodejs', version: '4.18.0' } } },
});

/** The _source line of the bulk body the forwarder writes for one intake line. */
function bulkSource(line: string): string {
  const result = createJobTransformer(metadata, ctx).transform(line);
  if (!result.ok) throw new Error(result.reason);
  const lines = prepareDocument('id', { ...result.doc, dynamicTemplates: undefined }).lines;
  return lines.split('\n')[1] ?? '';
}

describe('integers beyond 2^53 in free-form maps', () => {
  const transaction = (custom: string, extra = ''): string =>
    `{"transaction":{"id":"0123456789abcdef","trace_id":"0123456789abcdef0123456789abcdef","name":"GET /","type":"request","duration":1.5,"timestamp":1700000000000000,"span_count":{"started":0}${extra},"context":{"custom":${custom}}}}`;

  it('keeps 9007199254740993 in context.custom exact, as its source digits, in the bulk body', () => {
    const source = bulkSource(transaction('{"big":9007199254740993,"list":[1,{"n":-9223372036854775808}]}'));
    expect(source).toContain('"custom":{"big":9007199254740993,"list":[1,{"n":-9223372036854775808}]}');
    // JSON.parse alone would have written the rounded value.
    expect(JSON.stringify(JSON.parse('9007199254740993'))).toBe('9007199254740992');
  });

  it('keeps exception attributes and request env exact; typed fields and numbers outside int64 stay numbers', () => {
    const error = `{"error":{"id":"0123456789abcdef0123456789abcdef","timestamp":1700000000000000,"exception":{"message":"x","type":"E","attributes":{"code":18446744073709551,"over":123456789012345678901234}},"context":{"request":{"method":"GET","url":{"full":"http://h/"},"env":{"pid":9007199254740995}}}}}`;
    const source = bulkSource(error);
    expect(source).toContain('"code":18446744073709551');
    expect(source).toContain('"pid":9007199254740995');
    // Beyond int64 the value is no integer APM Server keeps: the float parse stands.
    expect(source).toContain('"over":1.2345678901234569e+23');
  });

  it('does not turn an agent string into a number, even one that looks like the marker', () => {
    const source = bulkSource(transaction('{"s":"\\u00000:9007199254740993\\u0000","big":9007199254740993}'));
    expect(source).toContain('"s":"\\u00000:9007199254740993\\u0000"');
    expect(source).toContain('"big":9007199254740993');
  });

  it('finds literals by path through arrays, nested objects, strings with brackets and duplicate keys', () => {
    const line =
      '{"a":{"s":"[{\\"x\\":1}","k":[true,null,"y",[12345678901234567]],"d":9007199254740993,"d":9007199254740995}}';
    expect(unsafeIntegerLiterals(line)).toEqual([
      { path: ['a', 'k', 3, 0], text: '12345678901234567' },
      { path: ['a', 'd'], text: '9007199254740995' },
    ]);
  });
});
