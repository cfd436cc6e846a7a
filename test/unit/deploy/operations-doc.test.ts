import fs from 'node:fs';
import path from 'node:path';

import { errorCatalogue } from '../../../core/errors';
import { agentResults } from '../../../core/results';
import { knownSidecarVariables, repoRoot, sidecarVariablesIn } from './deploy-files';

// docs/operations.md is written by hand; these checks keep the names it tells operators to type or watch real.
const guide = fs.readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8');

function sourceText(folders: string[]): string {
  const texts: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) texts.push(fs.readFileSync(full, 'utf8'));
    }
  };
  for (const folder of folders) walk(path.join(repoRoot, folder));
  return texts.join('\n');
}

describe('docs/operations.md', () => {
  it('names only error codes of the catalogue or of the agent result table', () => {
    const agentCodes = Object.values(agentResults).flatMap((r) => ('code' in r ? [r.code] : []));
    const codes = new Set([...Object.keys(errorCatalogue), ...agentCodes]);
    const named = new Set(Array.from(guide.matchAll(/SIDECAR_ERR_[A-Z_]+/g), (m) => m[0]));
    expect(named.size).toBeGreaterThan(10);
    expect(Array.from(named).filter((code) => !codes.has(code))).toEqual([]);
  });

  it('names only APM_SIDECAR_* variables the configuration knows', () => {
    const known = knownSidecarVariables();
    expect(Array.from(sidecarVariablesIn(guide)).filter((name) => !known.has(name))).toEqual([]);
  });

  it('names only metrics that proxy or forwarder register', () => {
    const source = sourceText(['proxy', 'forwarder', 'core']);
    const metrics = new Set(Array.from(guide.matchAll(/\bapm_sidecar_([a-z_]+)/g), (m) => m[1] ?? ''));
    const missing = Array.from(metrics).filter(
      (name) => !source.includes(`\${metricPrefix}${name}\``) && !source.includes(`'apm_sidecar_${name}'`),
    );
    expect(missing).toEqual([]);
  });

  it('uses the dlq subcommands the CLI has', () => {
    const cli = fs.readFileSync(path.join(repoRoot, 'cli', 'apm-sidecar.ts'), 'utf8');
    for (const sub of ['list', 'replay', 'purge']) {
      expect(guide).toContain(`dlq ${sub}`);
      expect(cli).toContain(`dlq.command('${sub}')`);
    }
  });
});
