import fs from 'node:fs';
import path from 'node:path';

import { createJobTransformer } from '../../../../forwarder/transform';
import { ownFixture, sharedFixturesPresent } from '../../../support/fixtures';
import { allParity, fixturesDir, goldenContext, percent, renderParityTable, transformFile } from './parity';

const shared = sharedFixturesPresent();

(shared ? describe : describe.skip)('transform golden parity with APM Server approvals', () => {
  // describe.skip still runs this body to collect the tests: read the fixtures only when they are there.
  const parity = shared ? allParity() : { files: [], matched: 0, total: 0 };

  it('prints parity per file and overall', () => {
    const lines = parity.files.map((f) => `${f.name}: ${f.matched}/${f.total} = ${percent(f.matched, f.total)}%`);
    lines.push(`overall: ${parity.matched}/${parity.total} = ${percent(parity.matched, parity.total)}%`);
    for (const f of parity.files)
      for (const gap of f.gaps)
        lines.push(
          `  gap ${f.name} ${gap.field}: approved ${JSON.stringify(gap.approved)}, ours ${JSON.stringify(gap.ours)}`,
        );
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const f of parity.files) expect(f.transformErrors).toEqual([]);
  });

  it('reaches at least 95% overall', () => {
    expect(parity.matched / parity.total).toBeGreaterThanOrEqual(0.95);
  });

  it('has only the documented gaps (observer.type names apm-sidecar)', () => {
    const unexplained = parity.files.flatMap((f) =>
      f.gaps.filter((g) => g.field !== 'observer.type').map((g) => `${f.name} ${g.field}`),
    );
    expect(unexplained).toEqual([]);
  });

  it('matches the parity table in docs/compatibility.md (regenerate with write-parity.ts)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../../../docs/compatibility.md'), 'utf8');
    expect(doc).toContain(renderParityTable());
  });
});

(shared ? describe : describe.skip)('every APM Server intake fixture', () => {
  const inputs = shared
    ? fs.readdirSync(path.join(fixturesDir, 'intake-v2')).filter((f) => f.endsWith('.ndjson'))
    : ['(absent)'];

  it.each(inputs.filter((f) => !f.startsWith('invalid')))('%s transforms every event without an error', (input) => {
    const { docs, errors } = transformFile(input);
    expect(errors).toEqual([]);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(typeof doc['@timestamp']).toBe('string');
  });

  it.each(inputs.filter((f) => f.startsWith('invalid')))('%s gives outcomes with reasons, never throws', (input) => {
    const lines = fs
      .readFileSync(path.join(fixturesDir, 'intake-v2', input), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const transformer = createJobTransformer(lines[0] ?? '', goldenContext);
    for (const line of [...lines.slice(1), 'not json', '{"unknown":{}}', '[]', '{"span":3}']) {
      const result = transformer.transform(line);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('the real Node agent capture', () => {
  it('transforms without a single error', () => {
    const lines = fs
      .readFileSync(ownFixture('agent-nodejs', 'intake-v2-events.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const transformer = createJobTransformer(lines[0] ?? '', goldenContext);
    const results = lines.slice(1).map((line) => transformer.transform(line));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const streams = new Set(results.map((r) => (r.ok ? r.doc.dataStream : '')));
    expect(streams).toContain('traces-apm-default');
  });
});
