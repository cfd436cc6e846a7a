import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';

import { processIntakeStream } from '../../../../proxy/intake/process';
import { defaultLimits, metadataLine, spanLine } from './helpers';

describe('decoding a compressed body as it arrives', () => {
  test('the client goes away in the middle of a gzip body: rejects with the stream error', async () => {
    const gz = zlib.gzipSync(
      Buffer.from(`${metadataLine}\n${Array.from({ length: 200 }, (_, i) => spanLine(`s${i}`)).join('\n')}\n`),
    );
    const body = new PassThrough();
    body.write(gz.subarray(0, Math.floor(gz.length / 2)));
    setImmediate(() => body.destroy(new Error('aborted')));
    await expect(processIntakeStream(body, 'gzip', defaultLimits)).rejects.toThrow('aborted');
  });

  test('bad metadata in a gzip body stops reading without destroying the body', async () => {
    const gz = zlib.gzipSync(Buffer.from(`{"span":{}}\n${spanLine('a')}\n`));
    const body = new PassThrough();
    body.write(gz);
    const outcome = await processIntakeStream(body, 'gzip', defaultLimits);
    expect(outcome.errors.map((e) => e.message)).toEqual(['"metadata" or "m" required']);
    expect(body.destroyed).toBe(false);
    body.destroy();
  });
});
