import fs from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { type IntakeOutcome, processIntakeStream } from '../../../../proxy/intake/process';
import { renderIntakeResponse } from '../../../../proxy/intake/response';
import { decodeJobBody, type IntakeJobData } from '../../../../queue/contract';
import { sharedFixturesPresent } from '../../../support/fixtures';
import {
  agentCapture,
  chunked,
  defaultLimits,
  expectGolden,
  fixture,
  intakeFixtures,
  metadataLine,
  run,
  spanLine,
} from './helpers';

/** The payload through the forwarder's side of the contract. */
function decodePayload(outcome: IntakeOutcome): { metadata: string; events: string[] } {
  const payload = outcome.payload;
  if (payload === null) throw new Error('no payload');
  const job: IntakeJobData = {
    v: 1,
    requestId: 'r',
    receivedAt: 0,
    identity: { kind: 'anonymous' },
    client: { ip: '127.0.0.1', userAgent: null },
    encoding: payload.encoding,
    body: payload.body.toString('base64'),
    events: payload.events,
    rawBytes: payload.rawBytes,
  };
  const decoded = decodeJobBody(job, defaultLimits.maxRequestSize);
  return { metadata: decoded.metadata, events: decoded.events.map((e) => e.line) };
}

function nonEmptyLines(body: Buffer): string[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const shared = sharedFixturesPresent();
/** Tests that read APM Server's intake samples from ../shared/fixtures. */
const withShared = shared ? test : test.skip;
const validFixtures = shared
  ? fs.readdirSync(intakeFixtures).filter((f) => f.endsWith('.ndjson') && !f.startsWith('invalid'))
  : ['(absent)'];

(shared ? describe : describe.skip)('processIntakeStream on APM Server intake fixtures', () => {
  test.each(validFixtures)('%s: every event accepted, payload is the agent body', async (name) => {
    const raw = fixture(name);
    const gz = zlib.gzipSync(raw);
    const outcome = await run(chunked(gz, 512), 'gzip');
    const lines = nonEmptyLines(raw);
    expect(outcome.errors).toEqual([]);
    expect(outcome.accepted).toBe(lines.length - 1);
    const decoded = decodePayload(outcome);
    expect(decoded.metadata).toBe(lines[0]);
    expect(decoded.events).toHaveLength(lines.length - 1);
    if (name !== 'metricsets.ndjson') expect(outcome.payload?.body.equals(gz)).toBe(true);
  });

  test('metricsets.ndjson: trailing bytes after a JSON value are ignored (as APM Server) and dropped from the payload', async () => {
    const outcome = await run(fixture('metricsets.ndjson'));
    const events = decodePayload(outcome).events;
    expect(outcome.errors).toEqual([]);
    for (const line of events) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  test.each([
    ['invalid-event.ndjson', 'invalid-event'],
    ['invalid-json-event.ndjson', 'invalid-json-event'],
    ['invalid-metadata.ndjson', 'invalid-metadata'],
  ])("%s answers APM Server's body", async (name, golden) => {
    const outcome = await run(fixture(name));
    const response = renderIntakeResponse(outcome, { verbose: false, acceptsJson: true });
    expect(response.status).toBe(400);
    expectGolden(golden, response.body);
  });

  test('invalid-event.ndjson: the valid span is accepted and is the only event in the payload', async () => {
    const raw = fixture('invalid-event.ndjson');
    const outcome = await run(raw);
    expect(outcome.accepted).toBe(1);
    const lines = nonEmptyLines(raw);
    expect(decodePayload(outcome)).toEqual({ metadata: lines[0], events: [lines[2]] });
  });

  test('invalid metadata: nothing accepted, no payload', async () => {
    const outcome = await run(fixture('invalid-metadata.ndjson'));
    expect(outcome.accepted).toBe(0);
    expect(outcome.payload).toBeNull();
  });
});

describe('processIntakeStream on the Node agent capture', () => {
  const raw = fs.readFileSync(agentCapture);
  const lines = nonEmptyLines(raw);

  test('the captured gzip body is accepted whole and stored byte for byte', async () => {
    const gz = fs.readFileSync(`${agentCapture}.gz`);
    const outcome = await run(chunked(gz, 1000), 'gzip');
    expect(outcome.errors).toEqual([]);
    expect(outcome.accepted).toBe(lines.length - 1);
    expect(outcome.payload?.encoding).toBe('gzip');
    expect(outcome.payload?.body.equals(gz)).toBe(true);
    expect(outcome.payload?.rawBytes).toBe(zlib.gunzipSync(gz).length);
    expect(decodePayload(outcome).events).toEqual(lines.slice(1));
  });

  test.each([
    ['plain', (b: Buffer) => b, undefined, 'gzip'],
    ['gzip by header', (b: Buffer) => zlib.gzipSync(b), 'gzip', 'gzip'],
    ['deflate by header', (b: Buffer) => zlib.deflateSync(b), 'deflate', 'deflate'],
    ['gzip sniffed', (b: Buffer) => zlib.gzipSync(b), undefined, 'gzip'],
    ['deflate sniffed', (b: Buffer) => zlib.deflateSync(b), undefined, 'deflate'],
    ['gzip sniffed under an unknown Content-Encoding', (b: Buffer) => zlib.gzipSync(b), 'identity', 'gzip'],
  ] as const)('%s, sent 1 byte at a time', async (_name, encode, contentEncoding, storedAs) => {
    const body = encode(raw);
    const outcome = await run(chunked(body, 1), contentEncoding);
    expect(outcome.errors).toEqual([]);
    expect(outcome.accepted).toBe(lines.length - 1);
    expect(outcome.payload?.encoding).toBe(storedAs);
    expect(decodePayload(outcome).events).toEqual(lines.slice(1));
  });

  test('\\r\\n line ends are tolerated', async () => {
    const crlf = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
    const outcome = await run(crlf);
    expect(outcome.errors).toEqual([]);
    expect(outcome.accepted).toBe(lines.length - 1);
  });
});

describe('processIntakeStream limits and failures', () => {
  test('a too-large line in the middle is one error; the lines after it are still read', async () => {
    const big = spanLine('big', `,"action":"${'x'.repeat(5000)}"`);
    const body = Buffer.from([metadataLine, spanLine('a'), big, spanLine('b'), ''].join('\n'));
    const outcome = await run(chunked(body, 700), undefined, { maxEventSize: 1000, maxRequestSize: 1 << 20 });
    expect(outcome.accepted).toBe(2);
    expect(outcome.errors).toEqual([
      {
        code: 'SIDECAR_ERR_EVENT_TOO_LARGE',
        message: 'event exceeded the permitted size',
        document: big.slice(0, 1000),
      },
    ]);
    expect(decodePayload(outcome).events).toEqual([spanLine('a'), spanLine('b')]);
  });

  withShared('a too-large metadata line fails the request (APM Server TooLarge)', async () => {
    const outcome = await run(fixture('errors.ndjson'), undefined, { maxEventSize: 10, maxRequestSize: 1 << 20 });
    expect(outcome.payload).toBeNull();
    expectGolden('too-large', renderIntakeResponse(outcome, { verbose: false, acceptsJson: true }).body);
  });

  test.each([
    ['a line that is not metadata', '{"not": "metadata"}\n' + spanLine('a') + '\n', 'invalid-metadata-2'],
    ['an unknown event type', `${metadataLine}\n{"tennis-court": {"name": "Centre Court, Wimbledon"}}\n`, null],
  ])('%s', async (_name, body, golden) => {
    const outcome = await run(Buffer.from(body));
    expect(outcome.accepted).toBe(0);
    expect(outcome.payload).toBeNull();
    const response = renderIntakeResponse(outcome, { verbose: false, acceptsJson: true });
    expect(response.status).toBe(400);
    if (golden !== null) expectGolden(golden, response.body);
    else expect(outcome.errors[0]?.message).toBe('did not recognize object type: "tennis-court"');
  });

  test('empty body: 202, nothing accepted', async () => {
    const outcome = await run([]);
    expect(outcome).toEqual({ accepted: 0, errors: [], payload: null });
    expectGolden('empty-body-verbose', renderIntakeResponse(outcome, { verbose: true, acceptsJson: true }).body);
  });

  test("metadata without its newline at the end of the stream: APM Server's EOF error", async () => {
    const outcome = await run(Buffer.from(metadataLine));
    expect(outcome.errors).toEqual([
      { code: 'SIDECAR_ERR_INVALID_INPUT', message: 'EOF while reading metadata', document: metadataLine },
    ]);
  });

  withShared.each([
    ['gzip', 'gzip-invalid'],
    ['deflate', 'deflate-invalid'],
  ])("Content-Encoding %s on a plain body: APM Server's decoding error", async (encoding, golden) => {
    const outcome = await run(fixture('errors.ndjson'), encoding);
    expect(outcome.errors[0]?.code).toBe('SIDECAR_ERR_INVALID_COMPRESSION');
    const response = renderIntakeResponse(outcome, { verbose: false, acceptsJson: true });
    expect(response.status).toBe(400);
    expectGolden(golden, response.body);
  });

  test('gzip corrupted in the middle: events before the damage accepted, then a 400 decoding error', async () => {
    const events = Array.from({ length: 400 }, (_, i) => spanLine(`s${i}`, `,"action":"${i.toString(36).repeat(40)}"`));
    const gz = zlib.gzipSync(Buffer.from(`${metadataLine}\n${events.join('\n')}\n`));
    const corrupt = Buffer.from(gz);
    for (let i = Math.floor(gz.length / 2); i < gz.length - 8; i++) corrupt[i] = 0xff;
    const outcome = await run(chunked(corrupt, 256), 'gzip');
    // Deflate notices damage late (at the checksum at worst): garbage decoded before that is rejected line by line.
    const last = outcome.errors[outcome.errors.length - 1];
    expect(last?.code).toBe('SIDECAR_ERR_INVALID_COMPRESSION');
    expect(last?.message).toMatch(/^data decoding error: /);
    expect(outcome.accepted).toBeGreaterThan(0);
    const kept = decodePayload(outcome).events;
    expect(kept.length).toBe(outcome.accepted);
    // Damaged deflate data can still decode to plausible lines (back-references); before the damage, all intact.
    expect(kept.slice(0, 50)).toEqual(events.slice(0, 50));
  });

  withShared('truncated gzip: unexpected EOF', async () => {
    const gz = zlib.gzipSync(fixture('errors.ndjson'));
    const outcome = await run(gz.subarray(0, gz.length - 20), 'gzip');
    expect(outcome.errors.map((e) => e.message)).toEqual(['data decoding error: unexpected EOF']);
  });

  test('an error of the body stream itself rejects (the client went away)', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from(`${metadataLine}\n`));
    setImmediate(() => body.destroy(new Error('aborted')));
    await expect(processIntakeStream(body, undefined, defaultLimits)).rejects.toThrow('aborted');
  });

  test('bad metadata stops reading without destroying the body (the caller still answers on its socket)', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('{"not":"metadata"}\n'));
    const outcome = await processIntakeStream(body, undefined, defaultLimits);
    expect(outcome.errors).toHaveLength(1);
    expect(body.destroyed).toBe(false);
    body.destroy();
  });
});
