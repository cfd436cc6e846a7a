import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { prepareDistribution } from './distribution';
import { type NodeInfo, startNode, stopNode } from './node';
import { alive, jestPid, removeStaleRunFiles, runsDir } from './run-files';

/**
 * One node per jest run, shared by every test file and worker: the first file that asks starts it and writes
 * its NodeInfo to runs/<jest pid>.json; the others read that file. A detached watchdog stops the node when the
 * jest process is gone (so it also works without jest globalSetup/globalTeardown, and after a crash).
 */

function readInfo(file: string): NodeInfo | undefined {
  if (!fs.existsSync(file)) return undefined;
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof raw !== 'object' || raw === null) return undefined;
  const get = (k: string): unknown => Object.entries(raw).find(([key]) => key === k)?.[1];
  const [url, caFile, password, pid, runDir, version] = ['url', 'caFile', 'password', 'pid', 'runDir', 'version'].map(
    get,
  );
  if (
    typeof url !== 'string' ||
    typeof caFile !== 'string' ||
    typeof password !== 'string' ||
    typeof pid !== 'number' ||
    typeof runDir !== 'string' ||
    typeof version !== 'string'
  )
    return undefined;
  return { url, caFile, password, pid, runDir, version };
}

/** Watches the jest process; when it exits, stops the node (TERM, then KILL after 20 s) and removes its files. */
const watchdogSource = `
const [owner, node, runDir, ...files] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const fs = require('fs');
const started = Date.now();
const cleanup = () => {
  try { process.kill(-Number(node), 'SIGTERM'); } catch {}
  const termAt = Date.now();
  const wait = setInterval(() => {
    if (alive(Number(node)) && Date.now() - termAt < 20000) return;
    clearInterval(wait);
    try { process.kill(-Number(node), 'SIGKILL'); } catch {}
    for (const f of [runDir, ...files]) fs.rmSync(f, { recursive: true, force: true });
    process.exit(0);
  }, 250);
};
const timer = setInterval(() => {
  if (!alive(Number(owner)) || !alive(Number(node)) || Date.now() - started > 4 * 3600 * 1000) { clearInterval(timer); cleanup(); }
}, 500);
`;

function startWatchdog(owner: number, node: NodeInfo, files: string[]): void {
  const watchdog = spawn(
    process.execPath,
    ['-e', watchdogSource, String(owner), String(node.pid), node.runDir, ...files],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.unref();
}

async function waitForInfo(stateFile: string, errorFile: string, deadlineMs: number): Promise<NodeInfo> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const info = readInfo(stateFile);
    if (info !== undefined) return info;
    if (fs.existsSync(errorFile))
      throw new Error(`the shared Elasticsearch failed to start: ${fs.readFileSync(errorFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`no shared Elasticsearch after ${deadlineMs} ms (${stateFile})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

let mine: Promise<NodeInfo> | undefined;

/** The node of this jest run, started on first use. Bounded: rejects rather than hangs. */
export function sharedNode(): Promise<NodeInfo> {
  mine ??= acquire();
  return mine;
}

async function acquire(): Promise<NodeInfo> {
  const owner = jestPid();
  fs.mkdirSync(runsDir, { recursive: true });
  removeStaleRunFiles();
  const stateFile = path.join(runsDir, `${owner}.json`);
  const errorFile = path.join(runsDir, `${owner}.error`);
  const lockDir = path.join(runsDir, `${owner}.lock`);
  const existing = readInfo(stateFile);
  if (existing !== undefined && alive(existing.pid)) return existing;
  try {
    fs.mkdirSync(lockDir);
  } catch {
    return waitForInfo(stateFile, errorFile, 600_000);
  }
  try {
    const home = await prepareDistribution();
    // A free port can be taken between our check and the node's bind: an early exit gets one more try.
    const info = await startNode(home).catch((err: unknown) => {
      if (err instanceof Error && err.message.includes('exited during startup')) return startNode(home);
      throw err;
    });
    startWatchdog(owner, info, [stateFile, lockDir, errorFile]);
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(info));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
    return info;
  } catch (err) {
    fs.writeFileSync(errorFile, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/** Stops this run's node now (jest globalTeardown may call it; otherwise the watchdog does). */
export function stopSharedNode(): void {
  const info = readInfo(path.join(runsDir, `${jestPid()}.json`));
  if (info !== undefined) stopNode(info.pid);
}
