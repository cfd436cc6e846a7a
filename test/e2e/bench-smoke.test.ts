import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

interface SmokeResult {
  scenario: string;
  ours: number;
  baseline: number | null;
  details: Record<string, unknown>;
  sections?: string[];
  met: boolean;
  goals?: { goal: string; met: boolean }[];
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
    const { results, analysis } = JSON.parse(last) as {
      results: SmokeResult[];
      analysis: { speed: string[]; unmet: string[] };
    };
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
    // Every goal this run did not meet (first table and cost table) has its entry in "Goals not met", with the gap
    // and what would move it; a short smoke run misses most of them, so most entries are exercised here.
    const unmet = [
      ...results.filter((r) => !r.met).map((r) => r.scenario),
      ...results.flatMap((r) => (r.goals ?? []).filter((g) => !g.met).map((g) => g.goal)),
    ];
    expect(unmet.length).toBeGreaterThan(0);
    for (const name of unmet) {
      const start = analysis.unmet.findIndex((l) => l.startsWith(`- **${name}**`));
      expect({ name, found: start >= 0 }).toEqual({ name, found: true });
      const end = analysis.unmet.findIndex((l, i) => i > start && !l.startsWith('  '));
      const entry = analysis.unmet.slice(start, end).join('\n');
      if (name !== 'overload')
        expect({ name, entry: entry.includes('what would move it') }).toEqual({ name, entry: true });
    }
    // The machine-speed factor from this run's own baselines, and the goals scaled by it, labelled an estimate.
    const speed = analysis.speed.join('\n');
    expect(speed).toMatch(/\*\*machine speed factor\*\* \(geometric mean\) \| \| \| \*\*\d+\.\d\d\*\*/);
    expect(speed).toContain('**Estimate, not a measurement**');
  }, 480_000);
});
