import fs from 'node:fs';
import path from 'node:path';

import YAML from 'yaml';

const deployDir = path.join(__dirname, '..', 'deploy');

/** `["node", <flags>, "dist/cli/apm-sidecar.js"]` -> the flags; undefined when `value` is not that form. */
function flagsOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value[0] !== 'node') return undefined;
  const script = value.findIndex((a) => typeof a === 'string' && a.endsWith('apm-sidecar.js'));
  if (script < 0) return undefined;
  return value.slice(1, script).map(String);
}

/** The image's ENTRYPOINT (deploy/Dockerfile, exec form): what every subcommand of the image runs. */
function imageNodeFlags(): string[] {
  const dockerfile = fs.readFileSync(path.join(deployDir, 'Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const flags = entrypoint === undefined ? undefined : flagsOf(JSON.parse(entrypoint));
  if (flags === undefined) throw new Error('deploy/Dockerfile: no ENTRYPOINT ["node", ..., "dist/cli/apm-sidecar.js"]');
  return flags;
}

/**
 * The Node flags the product starts `apm-sidecar <subcommand>` with, so the bench measures what users run: the
 * `entrypoint` of the deploy/docker-compose.yml service running that subcommand when it has its own (the proxy's),
 * else the image's ENTRYPOINT (deploy/Dockerfile). V8 reads its heap sizes only at start, so they are flags.
 */
export function productNodeFlags(subcommand: string): string[] {
  const compose: unknown = YAML.parse(fs.readFileSync(path.join(deployDir, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  });
  const services = isRecord(compose) && isRecord(compose.services) ? Object.values(compose.services) : [];
  for (const service of services) {
    if (!isRecord(service) || !Array.isArray(service.command) || service.command[0] !== subcommand) continue;
    if (service.entrypoint === undefined) break;
    const flags = flagsOf(service.entrypoint);
    if (flags === undefined) throw new Error(`deploy/docker-compose.yml: the ${subcommand} entrypoint is not node`);
    return flags;
  }
  return imageNodeFlags();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
