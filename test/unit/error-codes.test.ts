import fs from 'node:fs';
import path from 'node:path';

import { parseCidr } from '../../core/cidr';
import { parseDuration } from '../../core/duration';
import { asError, InternalError, internalErrorCatalogue, SidecarError } from '../../core/errors';
import { parseBulkResponse } from '../../forwarder/outcomes';
import { parseAgentConfigEntry } from '../../proxy/agent-config/model';
import { parseIntakeJobData } from '../../queue/contract';
import { parseDeadLetterEntry, parseReplayJobData } from '../../queue/dead-letter/entry';
import { decodeOtlpRequest } from '../../queue/otlp/decode';

const root = path.join(__dirname, '..', '..');
const productDirs = ['cli', 'config', 'core', 'elasticsearch', 'forwarder', 'proxy', 'queue', 'tls'];

function productFiles(): Array<{ file: string; text: string }> {
  return productDirs.flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f))
      .map((file) => ({ file, text: fs.readFileSync(path.join(root, file), 'utf8') })),
  );
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// The house rule ESLint enforces (no-restricted-syntax in eslint.config.mjs), checked on the files themselves.
describe('every error of the product has a stable code', () => {
  it('no product file makes an Error, or a class of one, without a code (core/errors.ts defines the coded ones)', () => {
    const uncoded =
      /\b(new\s+(Error|TypeError|RangeError|SyntaxError)\s*\(|extends\s+(Error|TypeError|RangeError|SyntaxError)\b)/;
    const offenders = productFiles()
      .filter(({ file }) => file !== path.join('core', 'errors.ts'))
      .flatMap(({ file, text }) =>
        text.split('\n').flatMap((line, i) => (uncoded.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(offenders).toEqual([]);
  });

  it('each internal code is raised somewhere (no dead entry in the catalogue)', () => {
    const sources = productFiles()
      .filter(({ file }) => file !== path.join('core', 'errors.ts'))
      .map(({ text }) => text)
      .join('\n');
    const used = (code: string): boolean =>
      sources.includes(`'${code}'`) || (code === 'SIDECAR_ERR_THROWN_VALUE' && sources.includes('asError('));
    expect(Object.keys(internalErrorCatalogue).filter((code) => !used(code))).toEqual([]);
  });

  it.each([
    ['a job read back from Redis', () => parseIntakeJobData({ v: 1 }), 'SIDECAR_ERR_JOB_CONTRACT', 'JobContractError'],
    [
      'a dead-letter entry',
      () => parseDeadLetterEntry({ id: 1 }),
      'SIDECAR_ERR_DEAD_LETTER_ENTRY',
      'DeadLetterFormatError',
    ],
    ['a replay job', () => parseReplayJobData({}), 'SIDECAR_ERR_DEAD_LETTER_ENTRY', 'DeadLetterFormatError'],
    ['a _bulk answer', () => parseBulkResponse({ took: 1 }, []), 'SIDECAR_ERR_BULK_RESPONSE', 'BulkResponseError'],
    [
      'an OTLP/JSON export',
      () => decodeOtlpRequest('traces', 'json', Buffer.from('{"resourceSpans": 3}')),
      'SIDECAR_ERR_OTLP_DECODE',
      'OtlpDecodeError',
    ],
    [
      'an agent configuration document',
      () => parseAgentConfigEntry({ settings: { a: [] } }, 'f[0]'),
      'SIDECAR_ERR_AGENT_CONFIG_DOCUMENT',
      'AgentConfigParseError',
    ],
  ])('%s that does not parse throws an InternalError with its code', (_what, run, code, name) => {
    const err = thrown(run);
    expect(err).toBeInstanceOf(InternalError);
    expect(err).not.toBeInstanceOf(SidecarError);
    expect(err).toMatchObject({ code, name });
    expect(Object.keys(internalErrorCatalogue)).toContain(code);
  });

  it.each([
    ['a duration', () => parseDuration('soon'), '"soon" is not a duration'],
    ['a CIDR block', () => parseCidr('10.0.0.0/33'), '"10.0.0.0/33" is not a CIDR block'],
  ])('%s of the configuration that does not parse is SIDECAR_ERR_CONFIG_INVALID', (_what, run, message) => {
    const err = thrown(run);
    expect(err).toBeInstanceOf(SidecarError);
    expect(err).toMatchObject({ code: 'SIDECAR_ERR_CONFIG_INVALID' });
    expect((err as Error).message).toContain(message);
  });

  it('a thrown value that is not an Error becomes SIDECAR_ERR_THROWN_VALUE; an Error stays itself', () => {
    expect(asError('boom')).toMatchObject({ code: 'SIDECAR_ERR_THROWN_VALUE', message: 'boom' });
    const err = new RangeError('kept');
    expect(asError(err)).toBe(err);
  });
});
