import type { ProfileSummary, SelfTime } from './cpu-profile';
import type { CommandStats, ResidentSplit } from './observe';

/** One Node process of the profiled pass: its CPU profile over the load and over the idle window, its memory. */
export interface ProcessProfile {
  readonly name: string;
  readonly load: ProfileSummary;
  readonly idle: ProfileSummary;
  readonly memory: ResidentSplit;
  readonly heap: { readonly heapUsed: number; readonly heapTotal: number; readonly external: number } | null;
}

/** What the profiled pass saw; the measured figures (CPU, RSS, idle) come from the unprofiled pass. */
export interface PipelineProfile {
  readonly events: number;
  readonly requests: number;
  readonly idleSeconds: number;
  readonly sampleIntervalUs: number;
  readonly processes: readonly ProcessProfile[];
  readonly redis: {
    readonly load: CommandStats;
    readonly idle: CommandStats;
    readonly memory: ResidentSplit;
    readonly usedMemory: number;
  };
}

/** Figures of the measured (unprofiled) pass, by process name (proxy, redis, forwarder). */
export interface Measured {
  readonly cpuPer100k: Readonly<Record<string, number>>;
  readonly peakRssMiB: Readonly<Record<string, number>>;
  readonly idlePercent: Readonly<Record<string, number>> | null;
  readonly wakeups: Readonly<Record<string, { readonly main: number; readonly others: number }>> | null;
  readonly idleCommands: CommandStats | null;
  readonly idleSeconds: number;
}

/** The profiled pass with the measured figures it is read against (the unmet goals' breakdown reads both). */
export interface ProfiledPass {
  readonly pass: PipelineProfile;
  readonly measured: Measured;
}

const mib = 1024 * 1024;
export const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;
export const num = (n: number, digits = 2): string =>
  Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);

export function sortedCommands(stats: CommandStats): [string, { calls: number; usec: number }][] {
  return Object.entries(stats).sort((a, b) => b[1].usec - a[1].usec);
}

function selfTable(p: ProcessProfile, cpuPer100k: number | undefined): string[] {
  const rows = Math.min(10, Math.max(p.load.byPackage.length, p.load.byFunction.length));
  const est = (t: SelfTime | undefined): string =>
    t === undefined || cpuPer100k === undefined ? '' : num(t.share * cpuPer100k);
  const lines = [
    `**${p.name}**: ${num(p.load.busyMs, 0)} ms of busy samples over the load${cpuPer100k === undefined ? '' : `; measured ${num(cpuPer100k)} CPU s per 100k events`}.`,
    '',
    '| package / file | self | ≈ CPU s per 100k | function | self | ≈ CPU s per 100k |',
    '|---|---:|---:|---|---:|---:|',
  ];
  for (let i = 0; i < rows; i++) {
    const a = p.load.byPackage[i];
    const b = p.load.byFunction[i];
    lines.push(
      `| ${a?.name ?? ''} | ${a === undefined ? '' : pct(a.share)} | ${est(a)} | ${b === undefined ? '' : `\`${b.name}\``} | ${b === undefined ? '' : pct(b.share)} | ${est(b)} |`,
    );
  }
  return [...lines, ''];
}

/** The "Where it goes" section of docs/benchmarks.md: profiles of the end-to-end load and idle (the unmet goals' gaps are bench/goals-not-met.ts). */
export function whereItGoes(profile: PipelineProfile, measured: Measured): string[] {
  const lines = [
    '## Where it goes',
    '',
    `A second, profiled pass of the end-to-end scenario (same defaults, fresh Redis, ${profile.requests.toLocaleString('en-US')} requests, ${profile.events.toLocaleString('en-US')} events), every Node process run with \`node --cpu-prof --cpu-prof-interval ${profile.sampleIntervalUs}\`;`,
    'the measured figures above come from the unprofiled pass. "self" is the share of the busy (non-idle) samples',
    'whose innermost frame is in that package/file or function; "≈ CPU s per 100k" applies it to the measured CPU of',
    "that process (samples are wall time on a busy thread, so a process preempted on shared cores counts where it waited). Redis' figures are",
    'INFO commandstats over the same load.',
    '',
    '### CPU over the load, by process',
    '',
  ];
  for (const p of profile.processes) lines.push(...selfTable(p, measured.cpuPer100k[p.name]));
  const commands = sortedCommands(profile.redis.load);
  const totalUsec = commands.reduce((n, [, c]) => n + c.usec, 0);
  lines.push(
    `**redis** (measured ${num(measured.cpuPer100k.redis ?? 0)} CPU s per 100k events; commands' own time ${num(totalUsec / 1e6)} s over the load):`,
    '',
    '| command | calls | calls per request | µs per call | share of command time |',
    '|---|---:|---:|---:|---:|',
    ...commands
      .slice(0, 10)
      .map(
        ([name, c]) =>
          `| ${name} | ${c.calls.toLocaleString('en-US')} | ${num(c.calls / Math.max(profile.requests, 1))} | ${num(c.usec / Math.max(c.calls, 1))} | ${pct(totalUsec > 0 ? c.usec / totalUsec : 0)} |`,
      ),
    '',
    '### Memory at the end of the load (profiled pass)',
    '',
    '| process | peak RSS MiB (measured pass) | peak RSS MiB (this pass) | RSS now | anonymous | file-backed | V8 heap used / total | external + array buffers |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const p of profile.processes) {
    const m = p.memory;
    lines.push(
      `| ${p.name} | ${num(measured.peakRssMiB[p.name] ?? 0)} | ${num(m.peak / mib)} | ${num(m.rss / mib)} | ${num(m.anonymous / mib)} | ${num(m.file / mib)} | ${p.heap === null ? '–' : `${num(p.heap.heapUsed / mib)} / ${num(p.heap.heapTotal / mib)}`} | ${p.heap === null ? '–' : num(p.heap.external / mib)} |`,
    );
  }
  const r = profile.redis.memory;
  lines.push(
    `| redis | ${num(measured.peakRssMiB.redis ?? 0)} | ${num(r.peak / mib)} | ${num(r.rss / mib)} | ${num(r.anonymous / mib)} | ${num(r.file / mib)} | used_memory ${num(profile.redis.usedMemory / mib)} | – |`,
    '',
  );

  lines.push('### Idle: what wakes each process', '');
  if (measured.idlePercent !== null) {
    lines.push(
      `Measured pass, ${measured.idleSeconds} s of no traffic: CPU from /proc, wake-ups from each thread's context switches (/proc/<pid>/task/*/status), Redis commands from commandstats. Profiled pass (${profile.idleSeconds} s): busy samples of the idle window.`,
      '',
      '| process | % of a core | main-thread wake-ups/s | other threads wake-ups/s | busy samples at idle (profiled pass), top |',
      '|---|---:|---:|---:|---|',
    );
    for (const [name, v] of Object.entries(measured.idlePercent)) {
      const w = measured.wakeups?.[name];
      const p = profile.processes.find((x) => x.name === name);
      const topIdle =
        p === undefined
          ? ''
          : `${num(p.idle.busyMs, 1)} ms: ${p.idle.byFunction
              .slice(0, 4)
              .map((t) => `\`${t.name}\` ${pct(t.share)}`)
              .join(', ')}`;
      lines.push(
        `| ${name} | ${num(v)} | ${w === undefined ? '–' : num(w.main, 1)} | ${w === undefined ? '–' : num(w.others, 1)} | ${topIdle} |`,
      );
    }
    const idleCommands = measured.idleCommands === null ? [] : sortedCommands(measured.idleCommands);
    lines.push(
      '',
      `Redis commands at idle (measured pass, per minute): ${idleCommands.length === 0 ? 'none' : idleCommands.map(([name, c]) => `${name} ${num((c.calls / measured.idleSeconds) * 60, 1)}`).join(', ')}.`,
      '',
    );
  }

  return lines;
}
