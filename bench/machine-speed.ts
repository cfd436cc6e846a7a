import type { Goal, ScenarioResult } from './report';
import { num } from './where-it-goes';

/**
 * The reference day: the `npm run bench` run of 2026-12-01 18:33 UTC (docs/benchmarks.md at 34b6ba5, code at
 * 1b78869, "machine otherwise idle"), the day APM Server's reference row was measured. Its two CPU-bound baselines,
 * per CPU second so that load on the machine counts less than in events/s; the 15:02 run of that day (573e2ed) had
 * the bare-gunzip baseline at the same 202k events per CPU s.
 */
const referenceDay = {
  label: 'the run of 2026-12-01 18:33 UTC (docs/benchmarks.md at 34b6ba5), machine otherwise idle',
  gunzipEventsPerCpuSecond: 202_324,
  transformEventsPerCpuSecond: 62_833,
};

interface SpeedPart {
  readonly name: string;
  readonly thisRun: number;
  readonly reference: number;
  /** thisRun / reference: below 1, this machine did less work per CPU second than on the reference day. */
  readonly factor: number;
}

/** How fast this run's machine was against the reference day's, from this run's own baselines. */
export interface MachineSpeed {
  readonly parts: readonly SpeedPart[];
  /** Geometric mean of the parts' factors. */
  readonly factor: number;
  readonly low: number;
  readonly high: number;
}

function detail(results: readonly ScenarioResult[], scenario: string, key: string): number | undefined {
  const value = results.find((r) => r.scenario === scenario)?.details[key];
  return typeof value === 'number' && value > 0 ? value : undefined;
}

export function machineSpeed(results: readonly ScenarioResult[]): MachineSpeed | null {
  const baselines = [
    [
      'bare-gunzip intake baseline, events per CPU s',
      'intake',
      'events per baseline CPU s',
      referenceDay.gunzipEventsPerCpuSecond,
    ],
    ['transform, events per CPU s', 'transform', 'events per CPU second', referenceDay.transformEventsPerCpuSecond],
  ] as const;
  const parts: SpeedPart[] = [];
  for (const [name, scenario, key, reference] of baselines) {
    const thisRun = detail(results, scenario, key);
    if (thisRun !== undefined) parts.push({ name, thisRun, reference, factor: thisRun / reference });
  }
  if (parts.length === 0) return null;
  const factors = parts.map((p) => p.factor);
  return {
    parts,
    factor: Math.exp(factors.reduce((n, f) => n + Math.log(f), 0) / factors.length),
    low: Math.min(...factors),
    high: Math.max(...factors),
  };
}

/** A goal's figure as it would read at the reference day's speed, or null where speed does not scale it. */
export interface Scaled {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly met: boolean;
}

export function scaledGoal(goal: Goal, speed: MachineSpeed): Scaled | null {
  const limit = goal.limit;
  if (limit === undefined) return null;
  // CPU seconds shrink on a faster machine (x factor); rates per CPU second and CPU-bound events/s grow (/ factor).
  const cpuLike = goal.key === 'cpu' || goal.key === 'idle';
  const rateLike = goal.key === 'proxy' || goal.key === 'eps';
  if (!cpuLike && !rateLike) return null;
  const at = (f: number): number => (cpuLike ? goal.ours * f : goal.ours / f);
  const a = at(speed.low);
  const b = at(speed.high);
  const value = at(speed.factor);
  return { value, low: Math.min(a, b), high: Math.max(a, b), met: cpuLike ? value <= limit : value >= limit };
}

/** The "Machine speed of this run" section: the factor, its parts, and every goal scaled by it (an estimate). */
export function machineSpeedSection(speed: MachineSpeed | null, goals: readonly Goal[]): string[] {
  const lines = ['## Machine speed of this run (estimate)', ''];
  if (speed === null)
    return [
      ...lines,
      'Not estimated: this run has neither the intake nor the transform scenario, whose baselines measure it.',
      '',
    ];
  lines.push(
    `The machine kind varies from run to run, and APM Server's reference row comes from ${referenceDay.label}. This run's own CPU-bound baselines against the same figures of that run:`,
    '',
    '| baseline | this run | reference day | factor |',
    '|---|---:|---:|---:|',
    ...speed.parts.map((p) => `| ${p.name} | ${num(p.thisRun)} | ${num(p.reference)} | ${p.factor.toFixed(2)} |`),
    `| **machine speed factor** (geometric mean) | | | **${speed.factor.toFixed(2)}** |`,
    '',
    `Below 1, this machine did less work per CPU second than on the reference day. **Estimate, not a measurement**: the goals with this run's figures scaled by ${speed.factor.toFixed(2)} (CPU seconds x factor, events per CPU s and CPU-bound events/s / factor; the range from the ${speed.parts.length === 1 ? 'one baseline' : 'two baselines apart'}). Memory, bytes and the same-run ratios of the first table do not scale with speed and are not estimated; the measured figures above are the result.`,
    '',
    "| goal | measured (this run) | estimate at the reference day's speed | range | target | estimate meets it |",
    '|---|---:|---:|---:|---|---|',
  );
  for (const g of goals) {
    const s = scaledGoal(g, speed);
    if (s === null) continue;
    lines.push(
      `| ${g.goal} | ${num(g.ours)} | ~${num(s.value)} | ${num(s.low)}–${num(s.high)} | ${g.target} | ${s.met ? 'yes' : 'no'} |`,
    );
  }
  return [...lines, ''];
}
