import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Redis } from 'ioredis';

import { packageOf, summariseProfiles } from '../../../bench/cpu-profile';
import { commandsBetween, CommandStatsReader, threadSwitches, wakeupsPerSecond } from '../../../bench/observe';
import { RedisServer } from '../../support/redis';

// The bench's "Where it goes" section reads real V8 CPU profiles and real Redis commandstats; these check that the
// readers rank what actually ran, cut a profile to a window by its sample times, and count only others' commands.
describe('bench profile readers', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ranks the function that burned the CPU first, and cuts the profile to a window', () => {
    // Burns a fixed amount of CPU work (a few hundred ms; not a wall-clock loop: on a loaded machine that gets a
    // fraction of the CPU and the start-up's compile work can outweigh it) in a named function, then sleeps 300 ms,
    // then prints the clock between the two phases.
    const script = [
      'function burnTheCpu() { let x = 0; for (let i = 0; i < 3e7; i++) x += Math.sqrt(x + 1); return x; }',
      'burnTheCpu();',
      'const mid = Number(process.hrtime.bigint() / 1000n);',
      'setTimeout(() => console.log(JSON.stringify({ mid, pid: process.pid })), 300);',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', script], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const { mid, pid } = JSON.parse(run.stdout) as { mid: number; pid: number };
    const all = summariseProfiles(dir, pid, null);
    expect(all.byFunction[0]?.name).toMatch(/^burnTheCpu /);
    expect(all.byFunction[0]?.share).toBeGreaterThan(0.5);
    expect(all.busyMs).toBeGreaterThan(150);
    const after = summariseProfiles(dir, pid, { fromUs: mid, toUs: Number.MAX_SAFE_INTEGER });
    expect(after.byFunction.some((f) => f.name.startsWith('burnTheCpu '))).toBe(false);
    expect(after.windowMs).toBeGreaterThan(200);
    expect(summariseProfiles(dir, pid + 1_000_000, null).busyMs).toBe(0);
  });

  it('names packages, node modules and our own directories', () => {
    expect(packageOf('node:zlib', 'inflate')).toBe('node:zlib');
    expect(packageOf('file:///app/node_modules/@elastic/elasticsearch/lib/x.js', 'f')).toBe('@elastic/elasticsearch');
    expect(packageOf('file:///app/node_modules/bullmq/node_modules/ioredis/built/a.js', 'f')).toBe('ioredis');
    expect(packageOf('file:///app/dist/proxy/intake/validate.js', 'f')).toBe('apm-sidecar proxy/intake');
    expect(packageOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(packageOf('', 'writeBuffer')).toBe('(native)');
  });

  it("counts the commands others sent between two readings, not the reader's own", async () => {
    const redis = await RedisServer.start({ appendonly: false });
    const reader = new CommandStatsReader(redis.url);
    const other = new Redis(redis.url);
    try {
      await other.ping();
      const before = await reader.read();
      for (let i = 0; i < 5; i++) await other.set(`k${i}`, 'v');
      await other.info('server');
      const between = commandsBetween(before, await reader.read());
      expect(between.set?.calls).toBe(5);
      expect(between.info?.calls).toBe(1);
      expect(between.ping).toBeUndefined();
      const pid = Number(/^process_id:(\d+)/m.exec(await other.info('server'))?.[1]);
      const first = threadSwitches(pid);
      for (let i = 0; i < 20; i++) await other.ping();
      const wakes = wakeupsPerSecond(first, threadSwitches(pid), 1);
      expect(wakes.main).toBeGreaterThanOrEqual(1);
    } finally {
      reader.close();
      other.disconnect();
      await redis.destroy();
    }
  });
});
