import fs from 'node:fs';
import path from 'node:path';

import { faultResultsFile, type ScenarioResult } from '../test/support/oracle';

/**
 * Renders the fault suite's results (written by each scenario through test/support/oracle.ts) as the table in
 * docs/operations.md, between its markers, so the figures there always come from a run, never from a keyboard.
 *   npx tsx scripts/fault-table.ts            rewrite the table in docs/operations.md
 *   npx tsx scripts/fault-table.ts --print    print it only (CI)
 */
const begin = '<!-- fault-table:begin (scripts/fault-table.ts writes this table from a fault-suite run) -->';
const end = '<!-- fault-table:end -->';

function isResult(value: unknown): value is ScenarioResult {
  return value !== null && typeof value === 'object' && 'scenario' in value && 'acknowledged' in value;
}

function fmtNumber(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Dead-lettered once the fault cleared, and whether the scenario then replayed them (lost counts after that). */
function deadLettered(r: ScenarioResult): string {
  if (r.deadLettered === undefined) return '–';
  if (r.deadLettered === 0) return '0';
  return `${fmtNumber(r.deadLettered)}${r.replayed === true ? ', all replayed' : ', not replayed'}`;
}

export function renderTable(rows: readonly ScenarioResult[]): string {
  const header = [
    'scenario',
    'fault',
    'acknowledged',
    'lost',
    'dead-lettered before replay',
    'doubled',
    'indexed/s during the fault',
    'drain',
    'notes',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of [...rows].sort((a, b) => a.scenario.localeCompare(b.scenario))) {
    lines.push(
      `| ${[
        r.scenario,
        r.fault,
        fmtNumber(r.acknowledged),
        fmtNumber(r.lost),
        deadLettered(r),
        fmtNumber(r.doubled),
        r.rateDuringFault === null ? '–' : fmtNumber(r.rateDuringFault),
        r.drainSeconds === null ? 'never' : `${r.drainSeconds.toFixed(1)} s`,
        r.notes.replace(/\|/g, '/'),
      ].join(' | ')} |`,
    );
  }
  const when =
    rows
      .map((r) => r.recordedAt)
      .sort()
      .at(-1) ?? 'never';
  return [...lines, '', `Last run: ${when}, \`.ci/stages/30-faults.sh\`.`].join('\n');
}

function main(): void {
  const file = faultResultsFile();
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const rows = Array.isArray(parsed) ? parsed.filter(isResult) : [];
  const table = renderTable(rows);
  if (process.argv.includes('--print')) {
    process.stdout.write(`${table}\n`);
    return;
  }
  const docs = path.resolve(__dirname, '../docs/operations.md');
  const text = fs.readFileSync(docs, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/operations.md lacks the markers ${begin} ... ${end}`);
  fs.writeFileSync(docs, `${text.slice(0, from + begin.length)}\n${table}\n${text.slice(to)}`);
  process.stdout.write(`docs/operations.md: fault table rewritten from ${file} (${rows.length} scenarios)\n`);
}

main();
