import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import { testPki } from '../support/certs';
import { testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { cliPath, proxyEnv, spawnCli, type SpawnedProcess } from '../support/spawn-cli';

const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist');

function newestJsMtimeMs(dir: string): number {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .reduce((newest, f) => Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs), 0);
}

function getRoot(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: testPki().ca.cert,
          servername: 'localhost',
          headers: { Authorization: `Bearer ${testToken}`, Accept: 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        },
      )
      .on('error', reject);
  });
}

describe('the build stamp (GET / build_date and build_sha) is the build the process runs', () => {
  let redis: RedisServer;
  let proxy: SpawnedProcess | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await redis?.destroy();
  });

  it('npm run build writes its time (no earlier than the newest compiled file), and GET / reports it', async () => {
    expect(fs.existsSync(cliPath)).toBe(true);
    const info = JSON.parse(fs.readFileSync(path.join(dist, 'build-info.json'), 'utf8')) as {
      date: string;
      commit: string | null;
    };
    expect(info.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Whole seconds: the stamp drops the fraction the file times keep.
    expect(Date.parse(info.date)).toBeGreaterThanOrEqual(Math.floor(newestJsMtimeMs(dist) / 1000) * 1000);
    expect(Date.parse(info.date)).toBeLessThanOrEqual(Date.now());
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

    proxy = spawnCli(['proxy'], proxyEnv(redis.url));
    await proxy.waitFor(/"message":"intake listening"/);
    const port = Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port);
    const body = JSON.parse(await getRoot(port)) as Record<string, unknown>;
    expect(body).toMatchObject({
      build_date: info.date,
      build_sha: info.commit ?? `apm-sidecar-${pkg.version}`,
      version: '8.19.0',
    });
  }, 60_000);

  it('npm run build (which npm start runs) with nothing changed compiles nothing and keeps the stamp', () => {
    const build = (): void => {
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe', timeout: 170_000 });
    };
    build();
    const files = ['.tsbuildinfo', 'cli/apm-sidecar.js', 'core/version.js', 'build-info.json'].map((f) =>
      path.join(dist, f),
    );
    const before = files.map((f) => [f, fs.statSync(f).mtimeMs, fs.readFileSync(f, 'utf8')]);
    build();
    expect(files.map((f) => [f, fs.statSync(f).mtimeMs, fs.readFileSync(f, 'utf8')])).toEqual(before);
  }, 180_000);

  it('--version prints the version package.json holds', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const child = spawnCli(['--version'], {});
    await child.exitWithin(30_000);
    expect(child.stdout.trim()).toBe(pkg.version);
  });
});
