import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { ProfiledPass } from './where-it-goes';

/** One row of the report: our system against its baseline, run side by side in the same run. */
export interface ScenarioResult {
  readonly scenario: string;
  /** What is measured, with the unit ("events/s accepted"). */
  readonly metric: string;
  readonly ours: number;
  /** null where a scenario has no baseline (overload, transform). */
  readonly baseline: number | null;
  /** ours / baseline; null without a baseline. */
  readonly ratio: number | null;
  /** Goal in words ("ratio >= 0.5") and whether this run met it. */
  readonly goal: string;
  readonly met: boolean;
  /** Other numbers worth reading (latency, CPU seconds per process, memory). */
  readonly details: Readonly<Record<string, string | number>>;
  /** Goals judged against a reference measured outside this run (APM Server, issue #16). */
  readonly goals?: readonly Goal[];
  /** Markdown lines of a section of their own after the goals (the end-to-end profiles: "Where it goes"). */
  readonly sections?: readonly string[];
  /** The end-to-end scenario's profiled pass and the measured figures it is read against (for "Goals not met"). */
  readonly profile?: ProfiledPass;
}

/** One goal of the cost issue: our figure of this run, the reference system's (not this run), the target. */
export interface Goal {
  readonly goal: string;
  readonly ours: number;
  readonly reference: number | null;
  readonly target: string;
  readonly met: boolean;
  /** Which goal (for the profile section's gap), and its bound as a number. */
  readonly key?: 'cpu' | 'proxy' | 'eps' | 'bytes' | 'rss' | 'idle';
  readonly limit?: number;
}

function commit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}

function fmt(n: number | null): string {
  if (n === null) return '–';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(2);
}

/** An SVG bar chart of each scenario's ratio with its goal marked; a regression shows at a glance. */
export function ratioChart(results: readonly ScenarioResult[]): string {
  const rows = results.filter((r) => r.ratio !== null);
  const width = 640;
  const rowHeight = 34;
  const left = 230;
  const scale = (width - left - 60) / 1.2;
  const height = rows.length * rowHeight + 50;
  const bars = rows.map((r, i) => {
    const y = 30 + i * rowHeight;
    const ratio = r.ratio ?? 0;
    const goal = Number(/([\d.]+)/.exec(r.goal)?.[1] ?? '0');
    const w = Math.max(1, Math.min(ratio, 1.2) * scale);
    const colour = r.met ? '#2e7d32' : '#c62828';
    return [
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end" font-size="12">${r.scenario}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="${colour}"/>`,
      `<text x="${left + w + 6}" y="${y + 17}" font-size="12">${ratio.toFixed(2)}</text>`,
      `<line x1="${(left + goal * scale).toFixed(1)}" x2="${(left + goal * scale).toFixed(1)}" y1="${y}" y2="${y + 26}" stroke="#000" stroke-dasharray="3,2"/>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<text x="10" y="18" font-size="13" font-weight="bold">apm-sidecar / baseline (dashed line: goal; green: met)</text>`,
    `<line x1="${left + scale}" x2="${left + scale}" y1="24" y2="${height - 10}" stroke="#999"/>`,
    `<text x="${left + scale}" y="${height - 2}" font-size="10" text-anchor="middle">1.0</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}

/** Sections written from the whole run: the machine speed (after the cost table), the unmet goals (after the profiles). */
export interface Analysis {
  readonly speed: readonly string[];
  readonly unmet: readonly string[];
}

export function renderMarkdown(
  results: readonly ScenarioResult[],
  command: string,
  notes: readonly string[],
  analysis: Analysis,
): string {
  const table = results.map(
    (r) =>
      `| ${r.scenario} | ${r.metric} | ${fmt(r.ours)} | ${fmt(r.baseline)} | ${r.ratio === null ? '–' : r.ratio.toFixed(2)} | ${r.goal} | ${r.met ? 'met' : '**not met**'} |`,
  );
  const goals = results.flatMap((r) =>
    (r.goals ?? []).map(
      (g) => `| ${g.goal} | ${fmt(g.ours)} | ${fmt(g.reference)} | ${g.target} | ${g.met ? 'met' : '**not met**'} |`,
    ),
  );
  const goalTable =
    goals.length === 0
      ? []
      : [
          '## Cost against APM Server',
          '',
          'The end-to-end scenario (proxy + Redis AOF everysec + 1 forwarder, defaults) against the figures APM Server 9.5',
          'reached on this machine kind with the same corpus and load (reference, measured 2026-12-01, **not in this run**).',
          '',
          '| goal | apm-sidecar (this run) | APM Server 9.5 (reference) | target | |',
          '|---|---|---|---|---|',
          ...goals,
          '',
        ];
  const details = results.map(
    (r) =>
      `- **${r.scenario}**: ${Object.entries(r.details)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`)
        .join(', ')}`,
  );
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run-all.ts). Never edit the numbers by hand. -->',
    '',
    `- date: ${new Date().toISOString()}`,
    `- commit: ${commit()}`,
    `- machine: ${machine()}`,
    `- command: \`${command}\``,
    '',
    'Each scenario runs apm-sidecar and its baseline in the same run, on the same machine, with the same payloads',
    '(the Node agent trace corpus cut into 40-event gzip requests, as the Node agent sends them). Load comes from a',
    'separate process over loopback TLS. Ratios survive a noisy machine better than absolute numbers; read them.',
    '',
    '![ratios](benchmarks.svg)',
    '',
    '| scenario | metric | apm-sidecar | baseline | ratio | goal | |',
    '|---|---|---|---|---|---|---|',
    ...table,
    '',
    ...goalTable,
    ...analysis.speed,
    ...results.flatMap((r) => r.sections ?? []),
    ...analysis.unmet,
    '## Details',
    '',
    ...details,
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

export function writeReport(
  results: readonly ScenarioResult[],
  command: string,
  notes: readonly string[],
  analysis: Analysis,
  docsDir: string,
): void {
  fs.writeFileSync(path.join(docsDir, 'benchmarks.md'), renderMarkdown(results, command, notes, analysis));
  fs.writeFileSync(path.join(docsDir, 'benchmarks.svg'), ratioChart(results));
}
