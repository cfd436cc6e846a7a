import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The per-event oracle of the fault suite: every event id that got a 202 is recorded; once the fault has cleared,
 * the ids found in the index are checked against them: `lost` were acknowledged and are not indexed, `doubled`
 * are indexed more than once. The figures are printed and appended to the results file that
 * `scripts/fault-table.ts` turns into the table of docs/operations.md.
 */
export interface OracleFigures {
  readonly acknowledged: number;
  readonly indexed: number;
  readonly lost: number;
  readonly doubled: number;
  /** Up to 5 lost ids, for the failure message. */
  readonly lostSample: readonly string[];
}

export interface ScenarioResult extends OracleFigures {
  /** Stable id of the scenario (the test file's name without .test.ts). */
  readonly scenario: string;
  /** What the fault is, in a few words, for the table. */
  readonly fault: string;
  /** Documents indexed per second while the fault was on (null when not measured). */
  readonly rateDuringFault: number | null;
  /** Seconds from the fault clearing until every acknowledged event was indexed (null when it never was). */
  readonly drainSeconds: number | null;
  /**
   * Documents in the dead-letter queue once the fault cleared, before any `dlq replay`: acknowledged events that
   * wait for an operator. Where the fault was the operator's to fix, `replayed` says the scenario replayed them and
   * `lost` counts what is missing after the replay (undefined: the scenario does not read the dead-letter queue).
   */
  readonly deadLettered?: number;
  readonly replayed?: boolean;
  /** Anything else worth a column note (503s answered, entries replayed, ...). */
  readonly notes: string;
  readonly recordedAt: string;
}

/** Where results go: APM_SIDECAR_FAULTS_RESULTS, or one JSON file in the temp folder. */
export function faultResultsFile(): string {
  const configured = process.env.APM_SIDECAR_FAULTS_RESULTS;
  return configured !== undefined && configured !== ''
    ? configured
    : path.join(os.tmpdir(), 'apm-sidecar-faults', 'results.json');
}

export class DeliveryOracle {
  private readonly acked = new Set<string>();

  /** Records ids whose request was answered 202. */
  acknowledge(ids: Iterable<string>): void {
    for (const id of ids) this.acked.add(id);
  }

  get acknowledged(): number {
    return this.acked.size;
  }

  /** Compares the acknowledged ids with the ids found in the index (one entry per document, duplicates kept). */
  check(indexedIds: Iterable<string>): OracleFigures {
    const seen = new Map<string, number>();
    let indexed = 0;
    for (const id of indexedIds) {
      indexed++;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const lostIds = [...this.acked].filter((id) => !seen.has(id));
    let doubled = 0;
    for (const count of seen.values()) if (count > 1) doubled += count - 1;
    return { acknowledged: this.acked.size, indexed, lost: lostIds.length, doubled, lostSample: lostIds.slice(0, 5) };
  }

  /**
   * Polls `indexedIds` until nothing acknowledged is missing or `timeoutMs` passed; resolves with the figures and
   * the seconds it took (null when something is still missing).
   */
  async settle(
    indexedIds: () => Iterable<string> | Promise<Iterable<string>>,
    timeoutMs: number,
  ): Promise<OracleFigures & { readonly drainSeconds: number | null }> {
    const started = Date.now();
    for (;;) {
      const figures = this.check(await indexedIds());
      if (figures.lost === 0) return { ...figures, drainSeconds: (Date.now() - started) / 1000 };
      if (Date.now() - started > timeoutMs) return { ...figures, drainSeconds: null };
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Prints one scenario's figures and adds them to the results file (replacing an earlier row of that scenario). */
export function recordScenario(
  result: Omit<ScenarioResult, 'recordedAt' | 'lostSample'> & { readonly lostSample?: readonly string[] },
): void {
  const row: ScenarioResult = { ...result, lostSample: result.lostSample ?? [], recordedAt: new Date().toISOString() };
  const file = faultResultsFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let rows: ScenarioResult[] = [];
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (Array.isArray(parsed)) rows = parsed as ScenarioResult[];
  } catch {
    rows = [];
  }
  rows = [...rows.filter((r) => r.scenario !== row.scenario), row];
  fs.writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
  const rate = row.rateDuringFault === null ? '–' : `${Math.round(row.rateDuringFault)}/s`;
  const drain = row.drainSeconds === null ? 'never' : `${row.drainSeconds.toFixed(1)} s`;
  process.stdout.write(
    `faults: ${row.scenario}: acknowledged ${row.acknowledged}, lost ${row.lost}, doubled ${row.doubled}, rate during fault ${rate}, drain ${drain}${row.notes === '' ? '' : `; ${row.notes}`}\n`,
  );
}
