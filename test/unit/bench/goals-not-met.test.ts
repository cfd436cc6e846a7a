import { goalsNotMet } from '../../../bench/goals-not-met';
import { machineSpeed, machineSpeedSection } from '../../../bench/machine-speed';
import type { Goal, ScenarioResult } from '../../../bench/report';
import type { ProcessProfile, ProfiledPass } from '../../../bench/where-it-goes';

const mib = 1024 * 1024;

function proc(name: string, byPackage: [string, number][]): ProcessProfile {
  const busyMs = 10_000;
  const load = {
    busyMs,
    windowMs: busyMs,
    byPackage: byPackage.map(([n, share]) => ({ name: n, share, ms: share * busyMs })),
    byFunction: [],
  };
  return {
    name,
    load,
    idle: { busyMs: 0, windowMs: 1000, byFunction: [], byPackage: [] },
    memory: { peak: 150 * mib, rss: 140 * mib, anonymous: 95 * mib, file: 45 * mib },
    heap: { heapUsed: 40 * mib, heapTotal: 65 * mib, external: 8 * mib },
  };
}

const profile: ProfiledPass = {
  pass: {
    events: 120_000,
    requests: 3000,
    idleSeconds: 30,
    sampleIntervalUs: 250,
    processes: [
      proc('proxy', [
        ['apm-sidecar proxy/intake', 0.3],
        ['(native)', 0.2],
        ['bullmq', 0.1],
        ['node:zlib', 0.1],
        ['(garbage collector)', 0.1],
      ]),
      proc('forwarder', [
        ['apm-sidecar forwarder/transform', 0.4],
        ['apm-sidecar forwarder/output', 0.2],
        ['(garbage collector)', 0.2],
        ['ioredis', 0.1],
      ]),
    ],
    redis: {
      load: { evalsha: { calls: 6000, usec: 1_800_000 }, xadd: { calls: 12000, usec: 200_000 } },
      idle: {},
      memory: { peak: 20 * mib, rss: 19 * mib, anonymous: 10 * mib, file: 9 * mib },
      usedMemory: 3 * mib,
    },
  },
  measured: {
    cpuPer100k: { proxy: 6, redis: 1.5, forwarder: 10 },
    peakRssMiB: { proxy: 130, redis: 20, forwarder: 140 },
    idlePercent: { proxy: 0.2, redis: 0.05, forwarder: 0.1 },
    wakeups: { proxy: { main: 4, others: 1 }, redis: { main: 2, others: 0 }, forwarder: { main: 2, others: 0 } },
    idleCommands: {},
    idleSeconds: 60,
  },
};

const goal = (g: Partial<Goal> & Pick<Goal, 'goal' | 'ours' | 'met'>): Goal => ({ reference: null, target: 't', ...g });

function results(over: { cpu?: number; eps?: number } = {}): ScenarioResult[] {
  const cpu = over.cpu ?? 17.5;
  return [
    {
      scenario: 'intake',
      metric: 'events/s accepted',
      ours: 20_000,
      baseline: 100_000,
      ratio: 0.2,
      goal: 'ratio >= 0.5',
      met: false,
      details: {
        'events per proxy CPU s': 20_000,
        'events per baseline CPU s': 101_162,
        'proxy cores busy': 1,
        'baseline cores busy': 0.9,
      },
    },
    {
      scenario: 'intake, 2 workers',
      metric: 'events/s accepted, server.workers 2 (baseline: 1, same run)',
      ours: 19_000,
      baseline: 20_000,
      ratio: 0.95,
      goal: 'ratio >= 1',
      met: false,
      details: {
        'proxy cores busy, 1 worker': 1.1,
        'proxy cores busy, 2 workers': 1.3,
        'proxy CPU s per 100k events, 1 worker': 5,
        'proxy CPU s per 100k events, 2 workers (primary + workers)': 6.5,
        'machine cores': 2,
        'machine cores busy, all processes, 2 workers': 1.95,
        'load generator cores busy, 2 workers': 0.5,
        'redis cores busy, 2 workers': 0.1,
      },
    },
    {
      scenario: 'end-to-end',
      metric: 'documents/s indexed',
      ours: 7_000,
      baseline: 70_000,
      ratio: 0.1,
      goal: 'ratio >= 0.8',
      met: false,
      details: {
        'pipeline CPU s per 100k events': cpu,
        'sink CPU s per 100k events': 1,
        'load generator CPU s per 100k events': 1.5,
        'direct loader CPU s per 100k events (baseline)': 1.2,
        'machine cores busy, all processes': 1.9,
        'machine cores': 2,
        'uncompressed bulk bytes per event': 1300,
      },
      goals: [
        goal({ goal: 'CPU s per 100k events (pipeline)', ours: cpu, met: cpu <= 4.8, key: 'cpu', limit: 4.8 }),
        goal({ goal: 'proxy events per CPU s', ours: 16_667, met: false, key: 'proxy', limit: 100_000 }),
        goal({ goal: 'events/s end to end', ours: over.eps ?? 7_000, met: false, key: 'eps', limit: 12_000 }),
        goal({ goal: 'bytes per event', ours: 200, met: false, key: 'bytes', limit: 172 }),
        goal({ goal: 'documents per bulk', ours: 1000, met: true }),
        goal({ goal: 'peak RSS MiB', ours: 290, met: false, key: 'rss', limit: 200 }),
        goal({ goal: 'idle CPU', ours: 0.35, met: false, key: 'idle', limit: 0.25 }),
      ],
      profile,
    },
    {
      scenario: 'overload',
      metric: '503 p99 ms',
      ours: 10,
      baseline: null,
      ratio: null,
      goal: 'RSS <= 256 MiB, 503 p99 < 5 ms',
      met: false,
      details: { 'proxy peak RSS MiB': 120, 'share of 503': 0.8 },
    },
    {
      scenario: 'transform',
      metric: 'events/s',
      ours: 30_000,
      baseline: null,
      ratio: null,
      goal: 'informational',
      met: true,
      details: { 'events per CPU second': 31_416.5 },
    },
  ];
}

/** The entry of a goal in the section: its bullet and the indented lines under it. */
function entry(lines: readonly string[], name: string): string {
  const start = lines.findIndex((l) => l.startsWith(`- **${name}**`));
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('  '));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('the goals-not-met section', () => {
  it('has an entry with the gap, what it is made of and what would move it for every unmet goal', () => {
    const rs = results();
    const lines = goalsNotMet(rs, machineSpeed(rs));
    const unmet = [
      ...rs.filter((r) => !r.met).map((r) => r.scenario),
      ...rs.flatMap((r) => (r.goals ?? []).filter((g) => !g.met).map((g) => g.goal)),
    ];
    expect(unmet).toHaveLength(10);
    for (const name of unmet) {
      const text = entry(lines, name);
      expect(text).not.toBe('');
      if (name !== 'overload') expect(text).toContain('what would move it');
    }
    expect(entry(lines, 'documents per bulk')).toBe('');
    expect(entry(lines, 'transform')).toBe('');
  });

  it('splits the CPU gap into stages from the profile and names the ones that cover it', () => {
    const lines = goalsNotMet(results(), null);
    const cpu = entry(lines, 'CPU s per 100k events (pipeline)');
    // 17.5 against 4.8: 12.70 to go; the forwarder's transform is 0.4 x 10 CPU s per 100k.
    expect(cpu).toContain('a gap of 12.70 CPU s per 100k events');
    expect(cpu).toContain('forwarder decode + transform each event 4.00');
    expect(cpu).toContain('proxy gunzip 0.60 (baseline work too)');
    // redis: evalsha is 90% of its command time, 1.5 CPU s per 100k.
    expect(cpu).toContain('redis BullMQ Lua scripts (2.00 evalsha per request) 1.35');
    expect(cpu).toMatch(/what would move it: no one stage covers the gap: it takes the \d+ largest stages/);
    const eps = entry(lines, 'events/s end to end');
    // 2 cores / (17.5 + 1 + 1.5) CPU s per 100k = 10,000 events/s; 12k leaves 16.67 - 2.5 for the pipeline.
    expect(eps).toContain('a ceiling of 10,000 events/s');
    expect(eps).toContain('14.17 for the pipeline');
    expect(eps).toContain('a cut of 3.33');
  });

  it('says CPU is not the limit when the ceiling is above the throughput goal', () => {
    const lines = goalsNotMet(results({ cpu: 5 }), null);
    expect(entry(lines, 'events/s end to end')).toContain('CPU per event is not what limits this run');
  });

  it('scales the goals by the machine speed from this run’s baselines, labelled as an estimate', () => {
    const rs = results();
    const speed = machineSpeed(rs);
    // Both baselines at half the reference day's events per CPU s.
    expect(speed?.factor).toBeCloseTo(0.5, 3);
    const section = machineSpeedSection(
      speed,
      rs.flatMap((r) => r.goals ?? []),
    ).join('\n');
    expect(section).toContain('**Estimate, not a measurement**');
    expect(section).toContain('| CPU s per 100k events (pipeline) | 17.50 | ~8.75 |');
    expect(section).toContain('| events/s end to end | 7,000 | ~14,000 |');
    expect(section).not.toContain('| peak RSS MiB |');
    expect(entry(goalsNotMet(rs, speed), 'CPU s per 100k events (pipeline)')).toContain(
      "at the reference day's machine speed (estimate, factor 0.50",
    );
    expect(machineSpeedSection(machineSpeed([]), [])).toContain(
      'Not estimated: this run has neither the intake nor the transform scenario, whose baselines measure it.',
    );
  });
});
