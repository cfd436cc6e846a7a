import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

interface SmokeResult {
  scenario: string;
  ours: number;
  baseline: number | null;
  details: Record<string, unknown>;
  sections?: string[];
}

// The benchmarks never run in CI; this smoke run (a few seconds per scenario) proves each one still completes and
// reports numbers. It asserts nothing about speed: timings are measured by `npm run bench`, not judged by tests.
describe('npm run bench -- --smoke', () => {
  it('runs every scenario and reports a number for each', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'run-all.ts'), '--smoke'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 420_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.status).toBe(0);
    const last = run.stdout.trim().split('\n').pop() ?? '';
    const { results } = JSON.parse(last) as { results: SmokeResult[] };
    expect(results.map((r) => r.scenario)).toEqual([
      'intake',
      'intake, 2 workers',
      'otlp',
      'end-to-end',
      'end-to-end, 2 forwarders',
      'overload',
      'transform',
    ]);
    for (const r of results) {
      expect(Number.isFinite(r.ours)).toBe(true);
      if (r.scenario !== 'overload') expect(r.ours).toBeGreaterThan(0);
      if (r.baseline !== null) expect(r.baseline).toBeGreaterThan(0);
    }
    const overload = results.find((r) => r.scenario === 'overload');
    expect(overload?.details['share of 503']).toEqual(expect.any(Number));
    // The profiled pass of end to end: the proxy's and forwarder's CPU profiles and Redis' commands made it in.
    const profile = (results.find((r) => r.scenario === 'end-to-end')?.sections ?? []).join('\n');
    expect(profile).toContain('## Where it goes');
    expect(profile).toMatch(/\*\*proxy\*\*: [1-9][\d,]* ms of busy samples/);
    expect(profile).toMatch(/\*\*forwarder\*\*: [1-9][\d,]* ms of busy samples/);
    expect(profile).toMatch(/\| evalsha \| [1-9]/);
  }, 480_000);
});
