import { spawn } from 'node:child_process';
import path from 'node:path';

/** Helpers of the compose suite: run docker and Compose v2, read what the engine holds for a project. */

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Compose v2: APM_SIDECAR_COMPOSE (set by .ci/stages/20-compose.sh to the binary it built), else `docker compose`. */
function composeCommand(): [string, string[]] {
  const bin = process.env.APM_SIDECAR_COMPOSE;
  return bin !== undefined && bin !== '' ? [bin, []] : ['docker', ['compose']];
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(
      `${command} exited ${String(result.code)}\n--- stdout (tail)\n${result.stdout.slice(-4000)}\n--- stderr (tail)\n${result.stderr.slice(-6000)}`,
    );
  }
}

/** Runs a command to completion (killed after timeoutMs); rejects with its output unless `allowFailure`. */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; allowFailure?: boolean; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code === 0 || options.allowFailure === true) resolve(result);
      else reject(new CommandError(`${command} ${args.join(' ')}`, result));
    });
  });
}

/** One compose project: its files and env file, as a user would pass them. */
export class ComposeProject {
  constructor(
    readonly name: string,
    private readonly files: string[],
    private readonly envFile: string,
  ) {}

  run(args: string[], options: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<RunResult> {
    const [bin, prefix] = composeCommand();
    const fileArgs = this.files.flatMap((f) => ['-f', f]);
    return run(
      bin,
      [...prefix, '--ansi', 'never', '--progress', 'plain', '--env-file', this.envFile, ...fileArgs, ...args],
      options,
    );
  }

  /** `ps -a --format json` (one object per line in Compose v2.40). */
  async containers(): Promise<ComposeContainer[]> {
    const { stdout } = await this.run(['ps', '-a', '--format', 'json']);
    return stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ComposeContainer);
  }

  /** What the engine still holds with this project's label (containers, volumes, networks). */
  async leftovers(): Promise<string[]> {
    const label = `label=com.docker.compose.project=${this.name}`;
    const [containers, volumes, networks] = await Promise.all([
      run('docker', ['ps', '-a', '--filter', label, '--format', 'container {{.Names}}']),
      run('docker', ['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}']),
      run('docker', ['network', 'ls', '--filter', label, '--format', 'network {{.Name}}']),
    ]);
    return [containers, volumes, networks].flatMap((r) => r.stdout.split('\n').filter((l) => l.trim() !== ''));
  }

  /** The last log lines of every service, for a failure message. */
  async logTail(lines = 60): Promise<string> {
    const logs = await this.run(['logs', '--no-color', '--tail', String(lines)], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    const ps = await this.run(['ps', '-a'], { allowFailure: true });
    return `${ps.stdout}\n${logs.stdout}\n${logs.stderr}`;
  }
}

export interface ComposeContainer {
  readonly Name: string;
  readonly Service: string;
  readonly State: string;
  readonly Health: string;
  readonly ExitCode: number;
}

/** Step timings, printed as they happen (the CI log shows where the stage's time goes). */
export function note(message: string): void {
  process.stderr.write(`compose-test: ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}
