import { createRequire } from 'node:module';
import path from 'node:path';

import {
  type ComposeFile,
  type ComposeService,
  interpolate,
  interpolatedVariables,
  knownSidecarVariables,
  readComposeFile,
  readEnvFile,
  repoRoot,
  sidecarVariablesIn,
} from './deploy-files';

// No Docker engine runs where the tests run, so the stack is checked statically: dclint validates each file against
// the Compose specification's JSON schema (bundled, offline) and its own rules; the checks below add what the
// product needs (secure defaults, durable Redis, the configuration keys that really exist).

/** The part of dclint's API used here. Its own .d.ts files are ESM with extension-less imports, which Node16
 * resolution cannot follow from CommonJS, so the module is required and checked against this shape. */
interface LintMessage {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}
interface ComposeLinter {
  lintFiles(paths: string[], recursive: boolean): Array<{ readonly messages: LintMessage[] }>;
}
interface LinterConfig {
  rules: Record<string, 0 | 1 | 2>;
  quiet: boolean;
  debug: boolean;
  exclude: string[];
}
type ComposeLinterClass = new (config: LinterConfig) => ComposeLinter;

function loadDclint(): ComposeLinterClass {
  const dclint: unknown = createRequire(__filename)('dclint');
  const isModule = (m: unknown): m is { DCLinter: ComposeLinterClass } =>
    typeof m === 'object' && m !== null && 'DCLinter' in m && typeof m.DCLinter === 'function';
  if (!isModule(dclint)) throw new Error('dclint does not export DCLinter');
  return dclint.DCLinter;
}
const DCLinter = loadDclint();

const mainFile = 'deploy/docker-compose.yml';
const sidecarFile = 'deploy/sidecar/docker-compose.yml';
const composeFiles = [mainFile, sidecarFile];

/**
 * One-shot services run to completion and gate others through service_completed_successfully, which reads their
 * exit code; a healthcheck would only ever say "starting". They are the only services allowed without one.
 */
const oneShotServices = new Map([
  ['secrets', 'copies the secrets of deploy/.env into the volume of the service that needs each, then exits'],
  ['certs', 'creates the CA and certificates, then exits'],
  ['setup', 'installs templates and roles and writes the writer API key, then exits'],
  ['kibana-setup', 'sets the kibana_system password, then exits'],
]);

const envExample = readEnvFile('deploy/.env.example');
const main = readComposeFile(mainFile);
const sidecar = readComposeFile(sidecarFile);

function service(file: ComposeFile, name: string): ComposeService {
  const found = file.services.get(name);
  if (found === undefined) throw new Error(`${file.file} has no service ${name}`);
  return found;
}

/** A ${VAR} reference, optionally with a :? error message or an empty :- default (never a literal default). */
const variableOnly = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*|:-)?\}$/;
const secretName = /(PASSWORD|TOKEN|SECRET|API_KEY|PASSPHRASE|REDISCLI_AUTH)$/;

describe('compose files pass the Compose specification (dclint)', () => {
  // Rules about key and service order are style; ours follow the start-up story instead. Each file tags the image
  // it builds (build + image), so one build serves proxy, forwarders and setup: dclint's no-build-and-image
  // assumes the opposite intent.
  const linter = new DCLinter({
    rules: {
      'service-keys-order': 0,
      'services-alphabetical-order': 0,
      'top-level-properties-order': 0,
      'service-dependencies-alphabetical-order': 0,
      'no-build-and-image': 0,
    },
    quiet: true,
    debug: false,
    exclude: [],
  });

  it.each(composeFiles)('%s: valid schema, no lint finding', (relative) => {
    const [result] = linter.lintFiles([path.join(repoRoot, relative)], false);
    expect(result?.messages.map((m) => `${m.line}: ${m.rule}: ${m.message}`)).toEqual([]);
  });
});

describe.each([
  [mainFile, main],
  [sidecarFile, sidecar],
])('%s', (_name, compose) => {
  const services = Array.from(compose.services.values());

  it('uses only APM_SIDECAR_* variables that exist in the configuration schema', () => {
    const known = knownSidecarVariables();
    expect(Array.from(sidecarVariablesIn(compose.text)).filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives every long-running service a healthcheck (one-shots are listed in this test with the reason)', () => {
    for (const s of services) {
      if (oneShotServices.has(s.name)) continue;
      expect({
        service: s.name,
        healthcheck: s.healthcheck?.disabled === false && s.healthcheck.test.length > 0,
      }).toEqual({
        service: s.name,
        healthcheck: true,
      });
    }
  });

  it('starts every dependant on a condition: healthy for servers, completed successfully for one-shots', () => {
    for (const s of services) {
      for (const [dependency, condition] of s.dependsOn) {
        expect(compose.services.has(dependency)).toBe(true);
        const sharesNamespace = s.networkMode === `service:${dependency}`;
        const expected = oneShotServices.has(dependency)
          ? 'service_completed_successfully'
          : sharesNamespace
            ? 'service_started'
            : 'service_healthy';
        expect({ service: s.name, dependency, condition }).toEqual({
          service: s.name,
          dependency,
          condition: expected,
        });
      }
    }
  });

  it('writes no secret: passwords, tokens and keys only as ${VAR} or files', () => {
    for (const s of services) {
      for (const [name, value] of Object.entries(s.environment)) {
        if (name.endsWith('_FILE') || !secretName.test(name)) continue;
        expect({ service: s.name, name, value: variableOnly.test(value) }).toEqual({
          service: s.name,
          name,
          value: true,
        });
      }
      for (const [name, value] of Object.entries(s.environment)) {
        if (!/^redis(s)?:\/\//.test(value)) continue;
        const password = /^rediss?:\/\/[^:@/]*:([^@]*)@/.exec(value)?.[1];
        expect({ service: s.name, name, password: password === undefined || variableOnly.test(password) }).toEqual({
          service: s.name,
          name,
          password: true,
        });
      }
    }
    for (const spec of compose.secrets.values())
      expect(spec.file === undefined || typeof spec.environment === 'string').toBe(true);
  });

  it('pins every image to a version (no latest, no tag-less image)', () => {
    for (const s of services) {
      if (s.image === undefined) continue;
      const image = interpolate(s.image, new Map());
      const tag = /:([^/:]+)$/.exec(image)?.[1];
      expect({ service: s.name, image, pinned: tag !== undefined && /^\d+\.\d+\.\d+/.test(tag) }).toEqual({
        service: s.name,
        image,
        pinned: true,
      });
    }
  });

  it('never publishes the admin port (health, readiness, metrics)', () => {
    for (const s of services) for (const port of s.ports) expect(port).not.toMatch(/:8201$|^8201$/);
  });

  it('defines every secret and named volume it uses', () => {
    for (const s of services) {
      for (const secret of s.secrets) expect(compose.secrets.has(secret)).toBe(true);
      for (const volume of s.volumes) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.') || source.startsWith('/')) continue;
        expect({ service: s.name, volume: source, defined: compose.volumes.has(source) }).toEqual({
          service: s.name,
          volume: source,
          defined: true,
        });
      }
    }
  });
});

describe('deploy/docker-compose.yml: the stack', () => {
  it('runs Redis with noeviction, AOF (fsync every second) and a maxmemory, with its data on a volume', () => {
    const redis = service(main, 'redis');
    const args = redis.command;
    const flag = (name: string): string | undefined => args[args.indexOf(name) + 1];
    expect(args[0]).toBe('redis-server');
    // The password is in the config file the secrets service writes (requirepass), never on the command line.
    expect(args[1]).toBe('/usr/local/etc/redis/redis.conf');
    expect(redis.volumes).toContain('redis-secrets:/usr/local/etc/redis:ro');
    expect(args.filter((a) => a.includes('PASSWORD') || a === '--requirepass')).toEqual([]);
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--appendfsync')).toBe('everysec');
    expect(interpolate(flag('--maxmemory') ?? '', envExample)).toMatch(/^\d+(gb|mb|kb)?$/i);
    expect(redis.volumes.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(redis.ports).toEqual([]);
  });

  it('runs Elasticsearch with security and TLS on HTTP and transport, the elastic password from a secret', () => {
    const es = service(main, 'elasticsearch').environment;
    expect(es['xpack.security.enabled']).toBe('true');
    expect(es['xpack.security.http.ssl.enabled']).toBe('true');
    expect(es['xpack.security.transport.ssl.enabled']).toBe('true');
    expect(es['discovery.type']).toBe('single-node');
    // Mode 0400 for uid 1000, written by the secrets service: the image refuses a 0444 ELASTIC_PASSWORD_FILE.
    expect(es.ELASTIC_PASSWORD_FILE).toBe('/run/elasticsearch-secrets/elastic_password');
    expect(service(main, 'elasticsearch').volumes).toContain('elasticsearch-secrets:/run/elasticsearch-secrets:ro');
    expect(service(main, 'secrets').volumes).toContain('elasticsearch-secrets:/out/elasticsearch');
    expect(service(main, 'secrets').secrets).toContain('elastic_password');
    expect(main.secrets.get('elastic_password')?.environment).toBe('ELASTIC_PASSWORD');
    expect(service(main, 'elasticsearch').dependsOn.get('certs')).toBe('service_completed_successfully');
  });

  it('publishes the proxy on 8200 with TLS and the secret token, and nothing else of apm-sidecar', () => {
    const proxy = service(main, 'proxy');
    expect(proxy.command).toEqual(['proxy']);
    expect(proxy.ports.map((p) => interpolate(p, envExample))).toEqual(['0.0.0.0:8200:8200']);
    expect(proxy.environment.APM_SIDECAR_SSL_CERTIFICATE).toBeDefined();
    expect(proxy.environment.APM_SIDECAR_SSL_KEY).toBeDefined();
    expect(proxy.environment.APM_SIDECAR_SECRET_TOKEN_FILE).toBe('/run/apm-sidecar/secrets/apm_secret_token');
    expect(proxy.environment.APM_SIDECAR_REDIS_URL_FILE).toBe('/run/apm-sidecar/secrets/redis_url');
    expect(proxy.volumes).toContain('proxy-secrets:/run/apm-sidecar/secrets:ro');
    expect(main.secrets.get('apm_secret_token')?.environment).toBe('APM_SIDECAR_SECRET_TOKEN');
    expect(proxy.dependsOn.get('redis')).toBe('service_healthy');
    for (const name of ['setup', 'forwarder']) expect(service(main, name).ports).toEqual([]);
  });

  it('runs forwarders without published ports, replicated, after setup succeeded, with the writer key file', () => {
    const forwarder = service(main, 'forwarder');
    expect(forwarder.command).toEqual(['forwarder']);
    expect(forwarder.ports).toEqual([]);
    expect(forwarder.expose).toEqual([]);
    expect(forwarder.raw.container_name).toBeUndefined(); // `--scale forwarder=N` needs generated names
    expect(forwarder.replicas).toBeGreaterThanOrEqual(2);
    expect(forwarder.dependsOn.get('setup')).toBe('service_completed_successfully');
    expect(forwarder.environment.APM_SIDECAR_ES_API_KEY_FILE).toBe(
      service(main, 'setup').environment.WRITER_API_KEY_FILE,
    );
    expect(forwarder.environment.APM_SIDECAR_ES_HOSTS).toMatch(/^https:\/\//);
  });

  it('runs setup as a one-shot with the admin credential (never given to proxy or forwarders)', () => {
    const setup = service(main, 'setup');
    expect(setup.restart).toBe('no');
    expect(setup.environment.APM_SIDECAR_SETUP_ES_USERNAME).toBe('elastic');
    expect(setup.environment.APM_SIDECAR_SETUP_ES_PASSWORD_FILE).toBe('/run/apm-sidecar/secrets/elastic_password');
    expect(setup.volumes).toContain('setup-secrets:/run/apm-sidecar/secrets:ro');
    for (const name of ['proxy', 'forwarder']) {
      expect(Object.keys(service(main, name).environment).filter((k) => k.startsWith('APM_SIDECAR_SETUP_'))).toEqual(
        [],
      );
      expect(service(main, name).secrets).not.toContain('elastic_password');
      expect(service(main, name).volumes.filter((v) => /^(setup|elasticsearch)-secrets:/.test(v))).toEqual([]);
    }
  });

  it('marks one-shots restart "no" and keeps Kibana behind a profile', () => {
    for (const name of oneShotServices.keys()) expect(service(main, name).restart).toBe('no');
    expect(service(main, 'kibana').profiles).toEqual(['kibana']);
    expect(service(main, 'kibana-setup').profiles).toEqual(['kibana']);
  });

  it('has every variable it interpolates in .env.example, with no secret filled in', () => {
    // The sidecar example runs with --env-file deploy/.env, so its variables belong there too.
    const used = new Set([...interpolatedVariables(main.text), ...interpolatedVariables(sidecar.text)]);
    for (const spec of [...main.secrets.values(), ...sidecar.secrets.values()]) {
      if (typeof spec.environment === 'string') used.add(spec.environment);
    }
    expect(Array.from(used).filter((name) => !envExample.has(name))).toEqual([]);
    for (const [name, value] of envExample)
      if (secretName.test(name)) expect({ name, value }).toEqual({ name, value: '' });
    const known = knownSidecarVariables();
    expect(Array.from(envExample.keys()).filter((n) => n.startsWith('APM_SIDECAR_') && !known.has(n))).toEqual([]);
  });
});

describe('deploy/docker-compose.yml: secrets and image, as Compose v2 on Engine 20.10 runs them', () => {
  /** Kibana (profile kibana) takes its password as ELASTICSEARCH_PASSWORD: its image reads no *_FILE variable. */
  const secretVariables = ['ELASTIC_PASSWORD', 'REDIS_PASSWORD', 'APM_SIDECAR_SECRET_TOKEN', 'KIBANA_PASSWORD'];
  const exempt = new Set(['kibana']);

  it('hands no environment-sourced secret to a read-only service (Compose refuses to copy one in)', () => {
    for (const compose of [main, sidecar]) {
      for (const s of compose.services.values()) {
        if (s.raw.read_only !== true) continue;
        const sourced = s.secrets.filter((name) => typeof compose.secrets.get(name)?.environment === 'string');
        expect({ service: s.name, sourced }).toEqual({ service: s.name, sourced: [] });
      }
    }
  });

  it('interpolates no secret into an environment variable or a command (docker inspect shows both)', () => {
    for (const compose of [main, sidecar]) {
      for (const s of compose.services.values()) {
        if (exempt.has(s.name)) continue;
        const text = JSON.stringify({ environment: s.environment, command: s.command, entrypoint: s.entrypoint });
        expect({ service: s.name, secrets: secretVariables.filter((v) => text.includes(`\${${v}`)) }).toEqual({
          service: s.name,
          secrets: [],
        });
      }
    }
  });

  it('builds the apm-sidecar image in one service, which every other apm-sidecar service depends on', () => {
    const image = service(main, 'proxy').image;
    const users = Array.from(main.services.values()).filter((s) => s.image === image);
    const builders = users.filter((s) => s.raw.build !== undefined);
    expect(builders.map((s) => s.name)).toEqual(['secrets']);
    for (const s of users)
      if (s.name !== 'secrets')
        expect({ service: s.name, after: s.dependsOn.get('secrets') }).toEqual({
          service: s.name,
          after: 'service_completed_successfully',
        });
  });

  it('gives the secrets one-shot no network and only the CHOWN capability', () => {
    const secrets = service(main, 'secrets');
    expect(secrets.networkMode).toBe('none');
    expect(secrets.raw.cap_drop).toEqual(['ALL']);
    expect(secrets.raw.cap_add).toEqual(['CHOWN']);
  });

  it('says in its header that it needs Compose v2 and which Engine', () => {
    for (const compose of [main, sidecar]) {
      const header = compose.text.split('\nname:')[0] ?? '';
      expect(header).toMatch(/Compose v2/);
      expect(header).toMatch(/Engine 20\.10/);
    }
  });
});

describe('deploy/sidecar/docker-compose.yml: the proxy beside an app', () => {
  it('shares the app network namespace, listens on loopback, and the agent sends to https://localhost:8200', () => {
    const proxy = service(sidecar, 'apm-sidecar');
    const app = service(sidecar, 'app');
    expect(proxy.networkMode).toBe('service:app');
    expect(proxy.command).toEqual(['proxy']);
    expect(proxy.environment.APM_SIDECAR_HOST).toBe('127.0.0.1:8200');
    expect(proxy.environment.APM_SIDECAR_ADMIN_HOST).toBe('127.0.0.1:8201');
    expect(proxy.ports).toEqual([]);
    expect(app.environment.ELASTIC_APM_SERVER_URL).toBe('https://localhost:8200');
    expect(app.environment.ELASTIC_APM_SERVER_CA_CERT_FILE).toBeDefined();
  });
});
