import fs from 'node:fs';
import path from 'node:path';

import { SidecarError } from '../../core/errors';

const lockName = 'start.pid';

/** The command line of a live process, or undefined when there is no such process. */
export function commandLineOf(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live apm-sidecar (node running the CLI), not a stranger that reused the pid. */
export function isApmSidecar(pid: number): boolean {
  return commandLineOf(pid)?.includes('apm-sidecar') === true;
}

export function dataDirInUse(dataDir: string, pid: number): SidecarError {
  return new SidecarError(
    'SIDECAR_ERR_DATA_DIR_IN_USE',
    `${dataDir} is used by a running apm-sidecar start (pid ${pid})`,
    {
      remediation: `stop it (kill -TERM ${pid}) or give this one another path.data (APM_SIDECAR_DATA); two starts on one data directory would share one redis-server AOF`,
    },
  );
}

/**
 * Claims path.data for this `start`: path.data/start.pid holds the owner's pid. A live owner makes this start
 * refuse; a dead one (SIGKILL leaves the file) is replaced. Returns the release function (removes the file
 * if still ours).
 */
export function claimDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, lockName);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      const release = (): void => {
        if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
      };
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
      const owner = readPid(file);
      if (owner !== undefined && owner !== process.pid && isApmSidecar(owner)) throw dataDirInUse(dataDir, owner);
      fs.rmSync(file, { force: true });
    }
  }
  throw dataDirInUse(dataDir, readPid(file) ?? 0);
}

/** The parent pid of a live process (from /proc), or undefined. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 4, after the command name in parentheses (which may itself contain spaces or parentheses).
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
