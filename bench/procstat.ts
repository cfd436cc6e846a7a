import fs from 'node:fs';

export interface ProcStat {
  /** User + system CPU seconds so far. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

const clockTicks = 100; // USER_HZ on Linux

/** CPU time and RSS of a process from /proc (Linux). */
export function procStat(pid: number): ProcStat {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces: skip past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: (utime + stime) / clockTicks, rssBytes: rssPages * 4096 };
}

/** Peak resident set size (VmHWM) of a process. */
export function peakRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
}

/** The whole machine's CPU so far from /proc/stat, in CPU seconds: busy (not idle or iowait) and stolen. */
export interface MachineCpu {
  readonly busy: number;
  readonly steal: number;
}

export function machineCpu(): MachineCpu {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return { busy: (user + nice + system + irq + softirq + steal) / clockTicks, steal: steal / clockTicks };
}

/** Cores busy on the whole machine between two readings over `seconds`, and the share of them stolen. */
export function machineCoresBusy(
  before: MachineCpu,
  after: MachineCpu,
  seconds: number,
): { busy: number; steal: number } {
  const s = Math.max(seconds, 1e-9);
  return { busy: (after.busy - before.busy) / s, steal: (after.steal - before.steal) / s };
}
