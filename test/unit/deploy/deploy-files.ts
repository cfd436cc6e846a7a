import fs from 'node:fs';
import path from 'node:path';

import YAML from 'yaml';

import { configLeaves } from '../../../config/leaves';

/** Readers for the files under deploy/: compose files, .env files and the Dockerfile, parsed into typed shapes. */

export const repoRoot = path.join(__dirname, '..', '..', '..');
export const deployDir = path.join(repoRoot, 'deploy');

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scalarText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function textList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list`);
  return value.map((item, i) => scalarText(item, `${where}[${i}]`));
}

export interface Healthcheck {
  readonly disabled: boolean;
  readonly test: string[];
}

export interface ComposeService {
  readonly name: string;
  readonly raw: Dict;
  readonly image: string | undefined;
  readonly environment: Record<string, string>;
  readonly ports: string[];
  readonly expose: string[];
  readonly command: string[];
  readonly entrypoint: string[];
  /** Each dependency with its condition (a short-form list means service_started). */
  readonly dependsOn: Map<string, string>;
  readonly healthcheck: Healthcheck | undefined;
  readonly restart: string | undefined;
  readonly networkMode: string | undefined;
  readonly secrets: string[];
  readonly volumes: string[];
  readonly profiles: string[];
  readonly replicas: number | undefined;
}

export interface ComposeFile {
  readonly file: string;
  readonly text: string;
  readonly raw: Dict;
  readonly services: Map<string, ComposeService>;
  readonly secrets: Map<string, Dict>;
  readonly volumes: Set<string>;
}

function parseEnvironment(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((item, i) => {
        const entry = scalarText(item, `${where}[${i}]`);
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  if (!isDict(value)) throw new Error(`${where}: expected a map or a list`);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, v === null ? '' : scalarText(v, `${where}.${k}`)]),
  );
}

function parseDependsOn(value: unknown, where: string): Map<string, string> {
  if (value === undefined) return new Map();
  if (Array.isArray(value)) return new Map(textList(value, where).map((name) => [name, 'service_started']));
  if (!isDict(value)) throw new Error(`${where}: expected a map or a list`);
  return new Map(
    Object.entries(value).map(([name, spec]) => {
      const condition = isDict(spec) ? spec.condition : undefined;
      return [name, condition === undefined ? 'service_started' : scalarText(condition, `${where}.${name}.condition`)];
    }),
  );
}

function parseHealthcheck(value: unknown, where: string): Healthcheck | undefined {
  if (value === undefined) return undefined;
  if (!isDict(value)) throw new Error(`${where}: expected a map`);
  return { disabled: value.disable === true, test: textList(value.test, `${where}.test`) };
}

function parseService(name: string, value: unknown): ComposeService {
  const where = `services.${name}`;
  if (!isDict(value)) throw new Error(`${where}: expected a map`);
  const deploy = isDict(value.deploy) ? value.deploy : {};
  return {
    name,
    raw: value,
    image: value.image === undefined ? undefined : scalarText(value.image, `${where}.image`),
    environment: parseEnvironment(value.environment, `${where}.environment`),
    ports: textList(value.ports, `${where}.ports`),
    expose: textList(value.expose, `${where}.expose`),
    command: textList(value.command, `${where}.command`),
    entrypoint: textList(value.entrypoint, `${where}.entrypoint`),
    dependsOn: parseDependsOn(value.depends_on, `${where}.depends_on`),
    healthcheck: parseHealthcheck(value.healthcheck, `${where}.healthcheck`),
    restart: value.restart === undefined ? undefined : scalarText(value.restart, `${where}.restart`),
    networkMode: value.network_mode === undefined ? undefined : scalarText(value.network_mode, `${where}.network_mode`),
    secrets: textList(value.secrets, `${where}.secrets`),
    volumes: textList(value.volumes, `${where}.volumes`),
    profiles: textList(value.profiles, `${where}.profiles`),
    replicas: typeof deploy.replicas === 'number' ? deploy.replicas : undefined,
  };
}

/** Parses a compose file, resolving YAML anchors and merge keys as docker compose does. */
export function readComposeFile(relative: string): ComposeFile {
  const file = path.join(repoRoot, relative);
  const text = fs.readFileSync(file, 'utf8');
  const raw: unknown = YAML.parse(text, { merge: true });
  if (!isDict(raw) || !isDict(raw.services)) throw new Error(`${relative}: no services map`);
  const services = new Map(Object.entries(raw.services).map(([name, spec]) => [name, parseService(name, spec)]));
  const secrets = new Map(
    Object.entries(isDict(raw.secrets) ? raw.secrets : {}).map(([k, v]) => [k, isDict(v) ? v : {}]),
  );
  const volumes = new Set(Object.keys(isDict(raw.volumes) ? raw.volumes : {}));
  return { file: relative, text, raw, services, secrets, volumes };
}

/** KEY=VALUE lines of an env file (comments and blank lines skipped). */
export function readEnvFile(relative: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(repoRoot, relative), 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`${relative}: not KEY=VALUE: ${line}`);
    entries.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  return entries;
}

/** Variables a compose text interpolates: ${NAME}, ${NAME:-default}, ${NAME:?error} ($$ escapes excluded). */
export function interpolatedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g))
    if (match[1] !== undefined) names.add(match[1]);
  return names;
}

/** A value as compose would interpolate it with the given variables (defaults used when a variable is absent). */
export function interpolate(value: string, variables: ReadonlyMap<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (_m, name: string, op: string | undefined, arg: string | undefined) => {
      const set = variables.get(name);
      if (set !== undefined && set !== '') return set;
      if (op === ':-' || op === '-') return arg ?? '';
      return '';
    },
  );
}

/** Every APM_SIDECAR_* name the configuration accepts: each key's env name, _FILE for secrets, and the config path. */
export function knownSidecarVariables(): Set<string> {
  const known = new Set(['APM_SIDECAR_CONFIG']);
  for (const leaf of configLeaves()) {
    known.add(leaf.env);
    if (leaf.sensitive) known.add(`${leaf.env}_FILE`);
  }
  return known;
}

export function sidecarVariablesIn(text: string): Set<string> {
  return new Set(Array.from(text.matchAll(/\bAPM_SIDECAR_[A-Z0-9_]+/g), (m) => m[0]));
}

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the build stage (FROM) it belongs to. */
  readonly stage: number;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
export function readDockerfile(relative: string): DockerInstruction[] {
  const lines = fs.readFileSync(path.join(repoRoot, relative), 'utf8').split('\n');
  const logical: string[] = [];
  let pending = '';
  for (const line of lines) {
    if (line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const instructions: DockerInstruction[] = [];
  let stage = -1;
  for (const line of logical) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const keyword = match[1].toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2].trim(), stage });
  }
  return instructions;
}
