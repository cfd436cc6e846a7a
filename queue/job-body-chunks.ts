import zlib from 'node:zlib';

import { type DecodedJob, decodeJobBody, type IntakeJobData, JobContractError } from './contract';

const newline = 0x0a;
const inflateChunkBytes = 64 * 1024;

/**
 * A job's body decompressed as a stream and cut into pieces of about `chunkBytes` decompressed bytes, each with
 * the metadata line and the accepted event lines it holds (positions as decodeJobBody gives them: the line's
 * place after the metadata line, empty lines counted, so `_id`s do not depend on how the body was cut). Memory
 * follows the piece, not the body: a 60 MiB request is never held decompressed. The next piece is inflated only
 * when the consumer asks for it, so a consumer that awaits its sink between pieces bounds what is in hand.
 */
export async function* decodeJobBodyChunks(
  data: IntakeJobData,
  maxBytes: number,
  chunkBytes: number,
): AsyncGenerator<DecodedJob, void, undefined> {
  const whole = data.rawBytes <= chunkBytes ? decodeWhole(data, Math.min(chunkBytes, maxBytes)) : undefined;
  if (whole !== undefined) {
    if (whole.events.length > 0) yield whole;
    return;
  }
  const inflater =
    data.encoding === 'gzip'
      ? zlib.createGunzip({ chunkSize: inflateChunkBytes })
      : zlib.createInflate({ chunkSize: inflateChunkBytes });
  inflater.end(Buffer.from(data.body, 'base64'));
  let metadata: string | undefined;
  let position = -1;
  let events: Array<{ index: number; line: string }> = [];
  let pieceBytes = 0;
  let total = 0;
  let carry: Buffer | undefined;
  const take = (line: string): void => {
    if (metadata === undefined) metadata = line;
    else if (line.trim() !== '') events.push({ index: position, line });
    position++;
  };
  try {
    for await (const piece of inflater as AsyncIterable<Buffer>) {
      total += piece.length;
      if (total > maxBytes)
        throw new JobContractError(`body decompresses to more than ${maxBytes} bytes (server.max_request_size)`);
      const buf = carry === undefined ? piece : Buffer.concat([carry, piece]);
      let start = 0;
      // A newline byte never occurs inside a multi-byte UTF-8 sequence: cutting bytes at it is cutting characters.
      for (let nl = buf.indexOf(newline); nl >= 0; nl = buf.indexOf(newline, start)) {
        take(buf.toString('utf8', start, nl));
        start = nl + 1;
      }
      carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
      pieceBytes += piece.length;
      if (pieceBytes >= chunkBytes && events.length > 0) {
        yield { metadata: metadata ?? '', events };
        events = [];
        pieceBytes = 0;
      }
    }
  } finally {
    inflater.destroy();
  }
  take(carry === undefined ? '' : carry.toString('utf8'));
  if (events.length > 0) yield { metadata: metadata ?? '', events };
}

/**
 * A body that fits one piece (nearly every request: 40 events are about 20 KB) inflated in one call, which costs
 * a fraction of a stream per job. rawBytes comes from the job, so the call is bounded by `limit` all the same:
 * a body that inflates past it is left to the stream (undefined), whose own bound and error then apply.
 */
function decodeWhole(data: IntakeJobData, limit: number): DecodedJob | undefined {
  try {
    return decodeJobBody(data, limit);
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE')
      return undefined;
    throw err;
  }
}
