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
