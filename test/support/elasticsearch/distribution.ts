import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The newest integ-test-zip Maven Central serves (checked 2026-11: 8.19.21; no 9.x is published there).
 * APM_SIDECAR_TEST_ES_VERSION picks another.
 */
export const esVersion = process.env.APM_SIDECAR_TEST_ES_VERSION ?? '8.19.21';
/**
 * Where the distribution is unzipped. As root the node runs as nobody, which must be able to reach it: a clone in a
 * private folder (mktemp -d is 0700) would hide test/support/.cache, so root uses a world-readable folder under the
 * system temp dir instead (shared by every clone on the machine). APM_SIDECAR_TEST_ES_CACHE overrides both.
 */
export const cacheRoot =
  process.env.APM_SIDECAR_TEST_ES_CACHE ??
  (process.getuid?.() === 0
    ? path.join(os.tmpdir(), 'apm-sidecar-test-elasticsearch')
    : path.resolve(__dirname, '..', '.cache', 'elasticsearch'));
const artifact = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${esVersion}:zip`;
const pluginSource = path.join(__dirname, 'analysis-plugin', 'TestAnalysisPlugin.java');

/** A JDK (javac is needed for the test plugin): ES_JAVA_HOME, else the machine's 17 (8.x) or 21+ (9.x). */
export function javaHome(): string | undefined {
  const major = Number(esVersion.split('.')[0]);
  const candidates = [
    process.env.ES_JAVA_HOME,
    ...(major >= 9 ? [] : ['/usr/lib/jvm/java-17-openjdk-amd64', '/usr/lib/jvm/temurin-17-jdk-amd64']),
    '/usr/lib/jvm/java-21-openjdk-amd64',
    '/usr/lib/jvm/temurin-21-jdk-amd64',
    '/usr/lib/jvm/temurin-25-jdk-amd64',
    process.env.JAVA_HOME,
  ];
  return candidates.find(
    (dir): dir is string => dir !== undefined && dir !== '' && fs.existsSync(path.join(dir, 'bin', 'javac')),
  );
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}

/** Bump when the prepared layout changes, so an older cached copy is not reused. */
const layoutRevision = 2;

function homeDir(): string {
  return path.join(cacheRoot, `elasticsearch-${esVersion}-r${layoutRevision}`);
}

/** The `elastic` bootstrap password held by the prepared keystore (config/elasticsearch.keystore). */
export function bootstrapPassword(home: string): string {
  return fs.readFileSync(path.join(home, '.bootstrap-password'), 'utf8').trim();
}

/**
 * The keystore is made once per prepared copy (two JVM launches, ~7 s) and copied into each run's config.
 * Its bootstrap password only guards throwaway test nodes on 127.0.0.1.
 */
async function createKeystore(home: string, java: string): Promise<void> {
  const env = { ...process.env, ES_JAVA_HOME: java, ES_PATH_CONF: path.join(home, 'config') };
  const keystore = path.join(home, 'bin', 'elasticsearch-keystore');
  const password = `elastic-${crypto.randomBytes(9).toString('base64url')}`;
  await run(keystore, ['create'], { env, timeout: 120_000 });
  await new Promise<void>((resolve, reject) => {
    const add = spawn(keystore, ['add', '-x', 'bootstrap.password'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    add.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    add.once('error', reject);
    add.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`elasticsearch-keystore add failed: ${stderr}`)),
    );
    add.stdin.end(password);
  });
  fs.writeFileSync(path.join(home, '.bootstrap-password'), `${password}\n`);
}

function cachedZip(): string {
  return path.join(cacheRoot, `elasticsearch-${esVersion}.zip`);
}

/** True when this machine can run the integ-test-zip: a JDK, and Maven or an already prepared copy. */
export function distributionRunnable(): boolean {
  if (javaHome() === undefined) return false;
  return fs.existsSync(path.join(homeDir(), '.ready')) || fs.existsSync(cachedZip()) || onPath('mvn');
}

async function fetchZip(): Promise<string> {
  const zip = cachedZip();
  if (fs.existsSync(zip)) return zip;
  const staging = fs.mkdtempSync(path.join(cacheRoot, 'download-'));
  try {
    // dependency:copy resolves through ~/.m2 (downloaded once per machine), then copies the zip here.
    await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${staging}`], {
      timeout: 600_000,
    });
    fs.renameSync(path.join(staging, `elasticsearch-${esVersion}.zip`), zip);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return zip;
}

/** Builds the test analysis plugin (see analysis-plugin/TestAnalysisPlugin.java) into `home/plugins`. */
async function installAnalysisPlugin(home: string, java: string): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-es-plugin-'));
  try {
    const classes = path.join(work, 'classes');
    await run(
      path.join(java, 'bin', 'javac'),
      ['-nowarn', '--release', '17', '-d', classes, '-cp', path.join(home, 'lib', '*'), pluginSource],
      { timeout: 120_000 },
    );
    const dir = path.join(home, 'plugins', 'apm-sidecar-test-analysis');
    fs.mkdirSync(dir, { recursive: true });
    await run(
      path.join(java, 'bin', 'jar'),
      ['cf', path.join(dir, 'apm-sidecar-test-analysis.jar'), '-C', classes, '.'],
      { timeout: 60_000 },
    );
    fs.writeFileSync(
      path.join(dir, 'plugin-descriptor.properties'),
      [
        'description=Test-only analysis components the security index needs (apm-sidecar tests)',
        'version=1.0.0',
        'name=apm-sidecar-test-analysis',
        'classname=apmsidecar.test.TestAnalysisPlugin',
        'java.version=17',
        `elasticsearch.version=${esVersion}`,
        '',
      ].join('\n'),
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Fetches (Maven, once), unzips and completes the distribution under cacheRoot.
 * Built in a staging folder and renamed into place, so concurrent jest runs never see half a copy.
 */
export async function prepareDistribution(): Promise<string> {
  const home = homeDir();
  if (fs.existsSync(path.join(home, '.ready'))) return home;
  const java = javaHome();
  if (java === undefined) throw new Error('no JDK found: set ES_JAVA_HOME');
  fs.mkdirSync(cacheRoot, { recursive: true, mode: 0o755 });
  fs.chmodSync(cacheRoot, 0o755);
  const zip = await fetchZip();
  const staging = fs.mkdtempSync(path.join(cacheRoot, 'unzip-'));
  try {
    await run('unzip', ['-q', zip, '-d', staging], { timeout: 300_000 });
    const extracted = path.join(staging, `elasticsearch-${esVersion}-r${layoutRevision}`);
    fs.renameSync(path.join(staging, `elasticsearch-${esVersion}`), extracted);
    await installAnalysisPlugin(extracted, java);
    await createKeystore(extracted, java);
    fs.writeFileSync(path.join(extracted, '.ready'), `${new Date().toISOString()}\n`);
    try {
      fs.renameSync(extracted, home);
    } catch (err) {
      // Another jest run finished first: its copy is as good as ours.
      if (!fs.existsSync(path.join(home, '.ready'))) throw err;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return home;
}
