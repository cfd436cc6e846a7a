import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { LineSplitter } from '../../../../proxy/intake/lines';
import { MemoryBudget } from '../../../../proxy/intake/memory-budget';
import { processIntakeStream } from '../../../../proxy/intake/process';
import { chunked, defaultLimits, metadataLine, spanLine } from './helpers';

/** What a request body costs while a 10 MB line goes by: at most about max_event_size, never the line. */

const maxEventSize = defaultLimits.maxEventSize;
const tenMbLine = `{"span":{"name":"${'x'.repeat(10 * 1024 * 1024)}"}}`;
const body = Buffer.from([metadataLine, spanLine('a'), tenMbLine, spanLine('b'), ''].join('\n'));

describe('LineSplitter on a 10 MB line', () => {
  test('holds less than max_event_size of it, reports its head once, and reads the next line whole', () => {
    const seen: string[] = [];
    const heads: string[] = [];
    const splitter = new LineSplitter(maxEventSize, {
      line: (line, ordinal) => seen.push(`${ordinal}:${line.toString()}`),
      tooLarge: (head, ordinal) => {
        heads.push(head.toString());
        seen.push(`${ordinal}!`);
      },
    });
    let mostCarried = 0;
    for (const chunk of chunked(body, 16 * 1024)) {
      splitter.push(chunk);
      mostCarried = Math.max(mostCarried, splitter.carriedBytes);
    }
    splitter.end();
    expect(mostCarried).toBeLessThan(maxEventSize);
    expect(mostCarried).toBeGreaterThan(maxEventSize - 16 * 1024);
    expect(seen).toEqual([`0:${metadataLine}`, `1:${spanLine('a')}`, '2!', `3:${spanLine('b')}`]);
    expect(heads).toEqual([tenMbLine.slice(0, maxEventSize)]);
    expect(splitter.carriedBytes).toBe(0);
  });
});

describe('processIntakeStream: a 10 MB line costs about max_event_size of the budget, and the rest is accepted', () => {
  async function scan(chunks: readonly Buffer[], contentEncoding: string | undefined) {
    const budget = new MemoryBudget(0);
    const lease = budget.lease();
    const outcome = await processIntakeStream(Readable.from(chunks), contentEncoding, defaultLimits, { lease });
    lease.release();
    return { outcome, peak: budget.peak };
  }

  function expectAnswer(outcome: Awaited<ReturnType<typeof scan>>['outcome']): void {
    expect(outcome.accepted).toBe(2);
    expect(outcome.errors).toEqual([
      {
        code: 'SIDECAR_ERR_EVENT_TOO_LARGE',
        message: 'event exceeded the permitted size',
        document: tenMbLine.slice(0, maxEventSize),
      },
    ]);
    if (outcome.payload === null) throw new Error('no payload');
    expect(zlib.unzipSync(outcome.payload.body).toString()).toBe(
      [metadataLine, spanLine('a'), spanLine('b'), ''].join('\n'),
    );
  }

  test('gzip: the unfinished line is reserved while it is held (it is decompressed, not received), never all of it', async () => {
    const compressed = zlib.gzipSync(body);
    const { outcome, peak } = await scan(chunked(compressed, 16 * 1024), 'gzip');
    expectAnswer(outcome);
    // Received bytes + the partial line (below max_event_size) + small lines being judged.
    expect(peak).toBeGreaterThan(compressed.length + maxEventSize / 2);
    expect(peak).toBeLessThan(compressed.length + maxEventSize + 64 * 1024);
  });

  test('plain: the middle of the line is given back as it goes by', async () => {
    const { outcome, peak } = await scan(chunked(body, 16 * 1024), undefined);
    expectAnswer(outcome);
    expect(peak).toBeLessThan(2 * maxEventSize);
  });
});
