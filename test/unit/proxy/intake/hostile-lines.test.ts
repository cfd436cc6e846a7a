import zlib from 'node:zlib';

import { maxJsonDepth } from '../../../../proxy/intake/json-bounds';
import { checkEventLine } from '../../../../proxy/intake/line-check';
import { metadataLine, run } from './helpers';

/**
 * Lines JavaScript's JSON.parse accepts but Go's decoder (APM Server) refuses or reads differently (issue 14
 * item 1): each gets APM Server's answer or a safer one, so that a 202 means the forwarder can index the event.
 */

const tx = (fields: string): string =>
  `{"transaction":{"id":"a","trace_id":"b","type":"request","duration":1,"span_count":{"started":1}${fields}}}`;

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

function messageOf(line: string): string | null {
  const verdict = checkEventLine(line);
  return verdict.ok ? null : verdict.message;
}

describe('hostile numbers and nesting', () => {
  test.each([
    [
      'a duration of 1e400 (Infinity in JavaScript, indexed as null)',
      tx('').replace('"duration":1', '"duration":1e400'),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Duration: strconv.ParseFloat: parsing "1e400": value out of range',
    ],
    [
      '-1e400 in custom context',
      tx(',"context":{"custom":{"x":-1E+400}}'),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Custom: strconv.ParseFloat: parsing "-1E+400": value out of range',
    ],
    [
      'a 400-digit integer in custom context',
      tx(`,"context":{"custom":{"n":${'9'.repeat(400)}}}`),
      `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Custom: strconv.ParseFloat: parsing "${'9'.repeat(40)}...": value out of range`,
    ],
    [
      'a label of 1e400',
      tx(',"context":{"tags":{"n":1e400}}'),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Tags: strconv.ParseFloat: parsing "1e400": value out of range',
    ],
    [
      'a 30-digit timestamp (beyond int64)',
      tx(`,"timestamp":${'1'.repeat(30)}`),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Timestamp: ReadInt64: overflow',
    ],
    [
      'a timestamp after year 9999 (within int64; Elasticsearch cannot take it)',
      tx(',"timestamp":1000000000000000000'),
      "validation error: transaction: 'timestamp': validation rule 'max(253402300799999968)' violated",
    ],
    [
      'an integer field beyond int64',
      tx(',"context":{"response":{"status_code":1e19}}'),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Response: v2.transactionContextResponse.StatusCode: ReadInt64: overflow',
    ],
    [
      `nesting ${maxJsonDepth + 1} levels deep in custom context`,
      tx(`,"context":{"custom":${nested(maxJsonDepth - 2)}}`),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Custom: incrementDepth: exceeded max depth',
    ],
    [
      'nesting 100,000 levels deep',
      tx(`,"context":{"custom":${nested(100_000)}}`),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Custom: incrementDepth: exceeded max depth',
    ],
    [
      'arrays nested too deep',
      tx(`,"context":{"custom":{"a":${'['.repeat(maxJsonDepth)}${']'.repeat(maxJsonDepth)}}}`),
      'decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.transactionContext.Custom: incrementDepth: exceeded max depth',
    ],
  ])('%s is refused', (_name, line, expected) => {
    expect(messageOf(line)).toBe(expected);
  });

  test.each([
    ['nesting at the bound', tx(`,"context":{"custom":${nested(maxJsonDepth - 3)}}`)],
    [
      'brackets inside strings do not count',
      tx(`,"context":{"custom":{"s":"${'{['.repeat(2000)}\\"${'['.repeat(600)}"}}`),
    ],
    ['a tiny number (0 in Go and JavaScript alike)', tx(',"context":{"custom":{"x":1e-400}}')],
    ['-0', tx('').replace('"duration":1', '"duration":-0')],
    [
      '1.7976931348623157e308 (the largest float64)',
      tx('').replace('"duration":1', '"duration":1.7976931348623157e308'),
    ],
    ['a long exponent that fits', tx(',"context":{"custom":{"x":1e+0300}}')],
    ['digits in strings', tx(`,"context":{"custom":{"s":"${'9'.repeat(500)}e999"}}`)],
    ['duplicate keys (the last wins in Go too)', tx(',"name":"a","name":"b"')],
    ['a timestamp of today', tx(',"timestamp":1764547200000000')],
  ])('%s is accepted', (_name, line) => {
    expect(messageOf(line)).toBeNull();
  });
});

describe('lone surrogates', () => {
  it('are stored as U+FFFD, as Go decodes them; pairs and escaped backslashes are left alone', async () => {
    const lone = tx(
      ',"name":"a\\ud800b","context":{"custom":{"k":"\\udc00","pair":"\\ud83d\\ude00","bs":"\\\\ud800"}}',
    );
    const good = tx(',"name":"fine"');
    const outcome = await run(Buffer.from(`${metadataLine}\n${lone}\n${good}\n`));
    expect(outcome.errors).toEqual([]);
    expect(outcome.accepted).toBe(2);
    const stored = outcome.payload === null ? '' : decodePayload(outcome.payload);
    const [, first] = stored.split('\n');
    expect(first).toBe(
      tx(',"name":"a\\ufffdb","context":{"custom":{"k":"\\ufffd","pair":"\\ud83d\\ude00","bs":"\\\\ud800"}}'),
    );
    const value = JSON.parse(first ?? '') as { transaction: { name: string } };
    expect(value.transaction.name).toBe('a\ufffdb');
  });
});

describe('a request with hostile lines', () => {
  it('keeps the good events and names the refused ones (400, nothing hostile queued)', async () => {
    const lines = [
      tx(',"timestamp":1764547200000000'),
      tx(`,"timestamp":${'1'.repeat(30)}`),
      tx('').replace('"duration":1', '"duration":1e400'),
      tx(`,"context":{"custom":${nested(50_000)}}`),
    ];
    const outcome = await run(Buffer.from(`${metadataLine}\n${lines.join('\n')}\n`));
    expect(outcome.accepted).toBe(1);
    expect(outcome.errors.map((e) => e.code)).toEqual([
      'SIDECAR_ERR_INVALID_INPUT',
      'SIDECAR_ERR_INVALID_INPUT',
      'SIDECAR_ERR_INVALID_INPUT',
    ]);
    const stored = outcome.payload === null ? '' : decodePayload(outcome.payload);
    expect(stored).toBe(`${metadataLine}\n${lines[0] ?? ''}\n`);
  });
});

function decodePayload(payload: { encoding: string; body: Buffer }): string {
  if (payload.encoding === 'gzip') return zlib.gunzipSync(payload.body).toString('utf8');
  if (payload.encoding === 'deflate') return zlib.inflateSync(payload.body).toString('utf8');
  return payload.body.toString('utf8');
}
