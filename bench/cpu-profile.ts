import fs from 'node:fs';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) read here. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of a self-time table: a function or a package/file, its sampled milliseconds and share of busy time. */
export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) samples in the window, 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Milliseconds of samples in the window that were not (idle). */
  readonly busyMs: number;
  /** Length of the window the samples cover, in ms. */
  readonly windowMs: number;
  readonly byFunction: readonly SelfTime[];
  readonly byPackage: readonly SelfTime[];
}

/** Which package or file a frame belongs to: "node:zlib", "ioredis", "apm-sidecar proxy/intake", "(garbage collector)". */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = file.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const dist = /\/dist\/(.+)$/.exec(file)?.[1] ?? path.basename(file);
  const dir = path.dirname(dist);
  return `apm-sidecar ${dir === '.' ? dist : dir}`;
}

function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  const short = modules >= 0 ? file.slice(modules + '/node_modules/'.length) : file.replace(/^.*\/dist\//, '');
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

function top(totals: Map<string, number>, busyMs: number, n: number): SelfTime[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
}

/**
 * Self time of the samples of every profile in `dir` written by process `pid` (CPU.<date>.<pid>.<tid>.<seq>.cpuprofile),
 * by function and by package/file, over the window [fromUs, toUs] of process.hrtime (microseconds; the
 * profile's clock is the same monotonic clock), or all of it. (idle) samples count toward the window, not busy time.
 */
export function summariseProfiles(
  dir: string,
  pid: number,
  window: { readonly fromUs: number; readonly toUs: number } | null,
  n = 10,
): ProfileSummary {
  const files = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[3] === String(pid))
    : [];
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyMs = 0;
  let windowMs = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      t += delta;
      if (window !== null && (t < window.fromUs || t > window.toUs)) return;
      const ms = delta / 1000;
      windowMs += ms;
      const frame = nodes.get(id);
      if (frame === undefined || frame.functionName === '(idle)') return;
      busyMs += ms;
      const fn = frameName(frame);
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
      const pkg = packageOf(frame.url, frame.functionName);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    });
  }
  return { busyMs, windowMs, byFunction: top(byFunction, busyMs, n), byPackage: top(byPackage, busyMs, n) };
}
