import { firstJsonLine, progress, spawnTs } from '../processes';
import type { ScenarioResult } from '../report';

interface TransformLine {
  scenario: 'transform';
  events_per_s: number;
  events_per_cpu_s: number;
}

function isTransformLine(v: unknown): v is TransformLine {
  return typeof v === 'object' && v !== null && 'scenario' in v && v.scenario === 'transform' && 'events_per_s' in v;
}

/** Scenario 4: events/s of the intake -> document transform alone, on one core (bench/transform.ts in its own process). */
export async function transformScenario(): Promise<ScenarioResult> {
  progress('transform: bench/transform.ts on one core');
  const line = await firstJsonLine(spawnTs('bench/transform.ts', []), isTransformLine, 120_000);
  return {
    scenario: 'transform',
    metric: 'events/s (one core, incl. JSON.parse + JSON.stringify)',
    ours: line.events_per_s,
    baseline: null,
    ratio: null,
    goal: 'informational',
    met: true,
    details: { 'events per CPU second': line.events_per_cpu_s },
  };
}
