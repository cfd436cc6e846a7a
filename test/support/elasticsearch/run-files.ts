import fs from 'node:fs';
import path from 'node:path';

import { cacheRoot } from './distribution';

/** Per-jest-run files (node info, lock, notices), named after the jest process id. */
export const runsDir = path.join(cacheRoot, 'runs');

/**
 * The jest main process: a jest-worker child's parent, or this process when jest runs in band. (Not
 * `process.send`: under npx an in-band jest has an IPC channel too, and its parent is a short-lived shell.)
 */
export function jestPid(): number {
  return /jest-worker/.test(process.argv[1] ?? '') ? process.ppid : process.pid;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Run files of jest processes that are gone (a failed start leaves its lock and error file behind). */
export function removeStaleRunFiles(): void {
  for (const name of fs.readdirSync(runsDir)) {
    const pid = Number(/^(\d+)\./.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && !alive(pid)) fs.rmSync(path.join(runsDir, name), { recursive: true, force: true });
  }
}

/** Prints `message` once per jest run, not once per worker; `topic` tells apart notices of different causes. */
export function announceOncePerRun(message: string, topic = 'notice'): void {
  fs.mkdirSync(runsDir, { recursive: true });
  removeStaleRunFiles();
  try {
    fs.mkdirSync(path.join(runsDir, `${jestPid()}.${topic}`));
  } catch {
    return;
  }
  process.stderr.write(`${message}\n`);
}
