import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { repoRoot } from './deploy-files';

// deploy/scripts/setup-and-writer-key.sh run for real with sh, against a stand-in for the CLI that records its
// arguments and prints what `apm-sidecar setup --create-writer-api-key` prints: the key must land in the file,
// never in the log, and only once.
const script = path.join(repoRoot, 'deploy', 'scripts', 'setup-and-writer-key.sh');
const encodedKey = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';

describe('deploy/scripts/setup-and-writer-key.sh', () => {
  let dir: string;
  let keyFile: string;
  let callsFile: string;
  let cli: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-setup-script-'));
    keyFile = path.join(dir, 'credentials', 'writer-api-key');
    callsFile = path.join(dir, 'calls');
    fs.mkdirSync(path.dirname(keyFile));
    cli = path.join(dir, 'fake-cli.js');
    fs.writeFileSync(
      cli,
      [
        "const fs = require('node:fs');",
        `fs.appendFileSync(${JSON.stringify(callsFile)}, process.argv.slice(2).join(' ') + '\\n');`,
        "console.log('role apm_sidecar_writer: created');",
        // The lines elasticsearch/setup/credentials.ts prints for a created writer key.
        "if (process.argv.includes('--create-writer-api-key')) {",
        "  console.log('writer API key apm-sidecar-writer                       created (id VuaCfGcBCdbkQm-e5aOx)');",
        "  console.log('writer API key (shown once; limited to the apm_sidecar_writer role):');",
        `  console.log('  output.elasticsearch.api_key: ${encodedKey}');`,
        `  console.log('  or APM_SIDECAR_ES_API_KEY=${encodedKey}');`,
        '}',
      ].join('\n'),
    );
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(): string {
    return execFileSync('sh', [script], {
      env: { PATH: process.env.PATH, SIDECAR_CLI: cli, WRITER_API_KEY_FILE: keyFile },
      encoding: 'utf8',
    });
  }

  it('creates the key once, writes it with mode 0600, and keeps it out of the log', () => {
    const first = run();
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(`${encodedKey}\n`);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first).not.toContain(encodedKey);
    expect(first).toContain(`<written to ${keyFile}>`);

    const second = run();
    expect(second).toContain('exists');
    expect(fs.readFileSync(callsFile, 'utf8').trim().split('\n')).toEqual(['setup --create-writer-api-key', 'setup']);
    expect(fs.readdirSync(path.dirname(keyFile))).toEqual(['writer-api-key']);
  });

  it('fails, writing nothing, when the output holds no key', () => {
    fs.writeFileSync(cli, "console.log('setup done, no key here');");
    expect(() =>
      execFileSync('sh', [script], {
        env: { PATH: process.env.PATH, SIDECAR_CLI: cli, WRITER_API_KEY_FILE: keyFile },
        stdio: 'pipe',
      }),
    ).toThrow();
    expect(fs.readdirSync(path.dirname(keyFile))).toEqual([]);
  });
});
