import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  type DockerInstruction,
  knownSidecarVariables,
  readComposeFile,
  readDockerfile,
  repoRoot,
  sidecarVariablesIn,
} from './deploy-files';

const dockerfile = readDockerfile('deploy/Dockerfile');

const finalStage = Math.max(...dockerfile.map((i) => i.stage));

function inStage(stage: number, keyword: string): DockerInstruction[] {
  return dockerfile.filter((i) => i.stage === stage && i.keyword === keyword);
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === 'string'))
    throw new Error(`not exec form: ${args}`);
  return parsed;
}

function argDefault(name: string): string | undefined {
  const arg = dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith(`${name}=`));
  return arg?.args.slice(name.length + 1);
}

/** ENV instructions of the final stage as name -> value (the `ENV a=b c=d` form). */
function runtimeEnv(): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of inStage(finalStage, 'ENV')) {
    for (const pair of i.args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return env;
}

describe('deploy/Dockerfile', () => {
  it('is multi-stage on a pinned Node.js 20 slim image', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = from.args.split(/\s+/)[0] ?? '';
      const resolved = image.replace(/^\$\{?([A-Z_]+)\}?$/, (_m, name: string) => argDefault(name) ?? image);
      expect(resolved).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim$/);
    }
  });

  it('compiles with `npm run build` in the build stage and installs production dependencies only at runtime', () => {
    const buildRuns = dockerfile.filter((i) => i.stage < finalStage && i.keyword === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => r.includes('npm ci'))).toBe(true);
    expect(buildRuns.some((r) => r.includes('npm run build'))).toBe(true);
    const runtimeRuns = inStage(finalStage, 'RUN').map((i) => i.args);
    expect(runtimeRuns.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(inStage(finalStage, 'COPY').some((i) => i.args.startsWith('--from=') && i.args.includes('dist'))).toBe(true);
  });

  it('has no `# syntax=` line: BuildKit would fetch that frontend from Docker Hub, failing builds without it', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'deploy/Dockerfile'), 'utf8');
    expect(text).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('fails the step when `npm ci` exits 0 without finishing (verify-node-modules.js after each one)', () => {
    const npmCi = dockerfile.filter((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    expect(npmCi.length).toBe(2);
    for (const i of npmCi) expect(i.args).toMatch(/npm ci [^&]*&& node deploy\/scripts\/verify-node-modules\.js/);
    for (const i of npmCi)
      expect(
        dockerfile.some(
          (c) => c.stage === i.stage && c.keyword === 'COPY' && c.args.includes('verify-node-modules.js'),
        ),
      ).toBe(true);
  });

  it('copies every folder tsconfig.build.json compiles, and .dockerignore lets each one in', () => {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8'));
    const include = typeof parsed === 'object' && parsed !== null && 'include' in parsed ? parsed.include : undefined;
    if (!Array.isArray(include)) throw new Error('tsconfig.build.json has no include list');
    const copied = dockerfile
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .map((i) => i.args.split(/\s+/)[0]);
    const dockerignore = fs
      .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const folder of include) {
      expect(copied).toContain(String(folder));
      expect(dockerignore).toContain(`!${String(folder)}`);
    }
    expect(dockerignore).toContain('!deploy/scripts');
    expect(dockerignore).toContain('**/.env');
  });

  it('runs as a fixed non-root uid, the one the certificates one-shot gives the proxy key to', () => {
    const users = inStage(finalStage, 'USER');
    const user = users[users.length - 1]?.args ?? 'root';
    const uid = user.split(':')[0] ?? '';
    expect(uid).toMatch(/^\d+$/);
    expect(uid).not.toBe('0');
    const certs = readComposeFile('deploy/docker-compose.yml').services.get('certs');
    expect(certs?.environment.SIDECAR_UID).toBe(uid);
  });

  it('has one entrypoint for every subcommand and a HEALTHCHECK on the admin /healthz with what the slim image has', () => {
    const entrypoints = inStage(finalStage, 'ENTRYPOINT');
    expect(execForm(entrypoints[entrypoints.length - 1]?.args ?? '[]')).toEqual(['node', 'dist/cli/apm-sidecar.js']);
    const health = inStage(finalStage, 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const command = execForm(health[0]?.args.replace(/^.*?CMD\s+/, '') ?? '[]');
    expect(command[0]).toBe('node');
    const adminHost = runtimeEnv().get('APM_SIDECAR_ADMIN_HOST');
    expect(adminHost).toBe('0.0.0.0:8201');
    expect(command.join(' ')).toContain(`http://127.0.0.1:${adminHost?.split(':')[1]}/healthz`);
  });

  it('`npm start` gives node the V8 heap flags compose gives the proxy (start runs the proxy in its process)', () => {
    const entrypoint = readComposeFile('deploy/docker-compose.yml').services.get('proxy')?.entrypoint ?? [];
    const proxyFlags = entrypoint.slice(1, -1);
    expect(proxyFlags).toContain('--max-semi-space-size=2');
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const start = pkg.scripts.start ?? '';
    expect(start).toContain(`exec node ${proxyFlags.join(' ')} dist/cli/apm-sidecar.js start`);
  });

  it('sets only APM_SIDECAR_* variables the configuration knows', () => {
    const known = knownSidecarVariables();
    const text = fs.readFileSync(path.join(repoRoot, 'deploy/Dockerfile'), 'utf8');
    expect(Array.from(sidecarVariablesIn(text)).filter((n) => !known.has(n))).toEqual([]);
    expect(runtimeEnv().get('APM_SIDECAR_HOST')).toBe('0.0.0.0:8200');
  });
});

describe('deploy scripts', () => {
  const scripts = [
    { file: 'deploy/certs/create-certs.sh', shell: 'bash' },
    { file: 'deploy/kibana/set-kibana-system-password.sh', shell: 'bash' },
    { file: 'deploy/scripts/setup-and-writer-key.sh', shell: 'sh' },
    { file: 'deploy/scripts/write-secrets.sh', shell: 'sh' },
  ];

  it.each(scripts)('$file is executable, strict, and parses with $shell -n', ({ file, shell }) => {
    const full = path.join(repoRoot, file);
    expect(fs.statSync(full).mode & 0o111).not.toBe(0);
    const text = fs.readFileSync(full, 'utf8');
    expect(text).toMatch(shell === 'bash' ? /^#!\/usr\/bin\/env bash\n/ : /^#!\/bin\/sh\n/);
    expect(text).toMatch(shell === 'bash' ? /\nset -euo pipefail\n/ : /\nset -eu\n/);
    execFileSync(shell, ['-n', full]);
  });

  it('mounts or runs only scripts that exist', () => {
    const compose = readComposeFile('deploy/docker-compose.yml');
    for (const service of compose.services.values()) {
      for (const volume of service.volumes) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./')) expect(fs.existsSync(path.join(repoRoot, 'deploy', source))).toBe(true);
      }
      const script = service.entrypoint.find((a) => a.startsWith('/app/deploy/'));
      if (script !== undefined) expect(fs.existsSync(path.join(repoRoot, script.slice('/app/'.length)))).toBe(true);
    }
  });
});

describe('deploy/scripts/verify-node-modules.js', () => {
  const script = path.join(repoRoot, 'deploy/scripts/verify-node-modules.js');
  function project(installed: string[], lockRecord: boolean): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-verify-modules-'));
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ dependencies: { a: '1', '@s/b': '1' }, devDependencies: { c: '1' } }),
    );
    for (const name of installed) {
      fs.mkdirSync(path.join(dir, 'node_modules', name), { recursive: true });
      fs.writeFileSync(path.join(dir, 'node_modules', name, 'package.json'), '{}');
    }
    if (lockRecord) fs.writeFileSync(path.join(dir, 'node_modules', '.package-lock.json'), '{}');
    return dir;
  }
  function verify(dir: string, ...args: string[]): { code: number; stderr: string } {
    try {
      execFileSync(process.execPath, [script, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stderr: '' };
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      return { code: e.status, stderr: e.stderr.toString('utf8') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it("passes when every dependency and npm's own install record are there", () => {
    expect(verify(project(['a', '@s/b'], true)).code).toBe(0);
    expect(verify(project(['a', '@s/b', 'c'], true), '--dev').code).toBe(0);
  });

  it('fails naming what an interrupted install left out', () => {
    const missingDep = verify(project(['a'], true));
    expect(missingDep.code).toBe(1);
    expect(missingDep.stderr).toContain('missing: @s/b');
    expect(verify(project(['a', '@s/b'], true), '--dev').stderr).toContain('missing: c');
    expect(verify(project(['a', '@s/b'], false)).stderr).toContain('node_modules/.package-lock.json');
  });
});
