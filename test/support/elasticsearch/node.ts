import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Agent, request } from 'undici';

import { createCertificateAuthority, issueCertificate } from '../../../tls/local-ca';
import { freePort } from '../ports';
import { bootstrapPassword, esVersion, javaHome } from './distribution';

/** What suites need to reach a running node; written to the run's state file as JSON. */
export interface NodeInfo {
  readonly url: string;
  readonly caFile: string;
  readonly password: string;
  /** Process-group leader of the node (it was spawned detached). */
  readonly pid: number;
  readonly runDir: string;
  readonly version: string;
}

/** Elasticsearch refuses to run as root; as root the node runs as nobody (65534) with its files chowned. */
const asRoot = process.getuid?.() === 0;
const nobody = 65534;

function chownTree(dir: string): void {
  if (!asRoot) return;
  fs.chownSync(dir, nobody, nobody);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full);
    else fs.chownSync(full, nobody, nobody);
  }
}

/** Only settings of modules this distribution has: an unknown setting stops the node at startup. */
function elasticsearchYml(httpPort: number, transportPort: number, runDir: string): string {
  return [
    'cluster.name: apm-sidecar-test',
    'node.name: apm-sidecar-test-node',
    'discovery.type: single-node',
    'network.host: 127.0.0.1',
    `http.port: ${httpPort}`,
    `transport.port: ${transportPort}`,
    `path.data: ${path.join(runDir, 'data')}`,
    `path.logs: ${path.join(runDir, 'logs')}`,
    'node.store.allow_mmap: false',
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'xpack.license.self_generated.type: basic',
    'xpack.security.enabled: true',
    'xpack.security.http.ssl.enabled: true',
    'xpack.security.http.ssl.certificate: certs/node.crt',
    'xpack.security.http.ssl.key: certs/node.key',
    'xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]',
    '',
  ].join('\n');
}

/** A CA of its own (written under config/certs, where Elasticsearch may read it) and a localhost certificate. */
function writeCertificates(configDir: string): string {
  const ca = createCertificateAuthority('apm-sidecar test Elasticsearch CA');
  const node = issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const certs = path.join(configDir, 'certs');
  fs.mkdirSync(certs);
  fs.writeFileSync(path.join(certs, 'ca.crt'), ca.cert);
  // The node sends its chain (as production clusters do) so ca_trusted_fingerprint can match the root CA.
  fs.writeFileSync(path.join(certs, 'node.crt'), `${node.cert}\n${ca.cert}`);
  fs.writeFileSync(path.join(certs, 'node.key'), node.key);
  return path.join(certs, 'ca.crt');
}

async function call(
  url: string,
  dispatcher: Agent,
  auth: string,
  method: 'GET' | 'PUT' | 'POST',
  body?: unknown,
): Promise<number> {
  return request(url, {
    method,
    dispatcher,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then(
    async (res) => {
      await res.body.dump();
      return res.statusCode;
    },
    () => 0,
  );
}

/**
 * Green health is not enough: the node creates `.security-7` just after it starts, and until that index's
 * shard is active, native users, roles, API keys and even `_has_privileges` with application privileges
 * answer 503 (unavailable_shards_exception). So ready means: a role write and such a check both succeed.
 */
async function securityReady(url: string, dispatcher: Agent, auth: string): Promise<boolean> {
  if ((await call(`${url}/_cluster/health?wait_for_status=yellow&timeout=2s`, dispatcher, auth, 'GET')) !== 200)
    return false;
  const role = { cluster: [], indices: [], metadata: { purpose: 'apm-sidecar test harness readiness probe' } };
  if ((await call(`${url}/_security/role/apm_sidecar_test_readiness`, dispatcher, auth, 'PUT', role)) !== 200)
    return false;
  const check = { application: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }] };
  if ((await call(`${url}/_security/user/_has_privileges`, dispatcher, auth, 'POST', check)) !== 200) return false;
  return (
    (await call(`${url}/_cluster/health/.security?wait_for_status=green&timeout=5s`, dispatcher, auth, 'GET')) === 200
  );
}

async function waitForHealth(
  info: Omit<NodeInfo, 'pid'>,
  exited: () => string | undefined,
  deadlineMs: number,
): Promise<void> {
  const dispatcher = new Agent({ connect: { ca: fs.readFileSync(info.caFile, 'utf8') } });
  const auth = `Basic ${Buffer.from(`elastic:${info.password}`).toString('base64')}`;
  const deadline = Date.now() + deadlineMs;
  try {
    for (;;) {
      const gone = exited();
      if (gone !== undefined)
        throw new Error(
          `Elasticsearch exited during startup (${gone}); see ${info.runDir}/logs and ${info.runDir}/stdout.log`,
        );
      if (await securityReady(info.url, dispatcher, auth)) return;
      if (Date.now() > deadline)
        throw new Error(`Elasticsearch not healthy after ${deadlineMs} ms; see ${info.runDir}/stdout.log`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await dispatcher.close();
  }
}

/**
 * Starts a node from a prepared distribution: its own config dir (ES_PATH_CONF: a copy of the prepared one,
 * keystore with the `elastic` bootstrap password included) with elasticsearch.yml and certificates; data and
 * logs in the same run dir.
 */
export async function startNode(home: string, startupDeadlineMs = 180_000): Promise<NodeInfo> {
  const java = javaHome();
  if (java === undefined) throw new Error('no JDK found: set ES_JAVA_HOME');
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-es-node-'));
  const configDir = path.join(runDir, 'config');
  fs.cpSync(path.join(home, 'config'), configDir, { recursive: true });
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  fs.writeFileSync(path.join(configDir, 'elasticsearch.yml'), elasticsearchYml(httpPort, transportPort, runDir));
  const caFile = writeCertificates(configDir);
  const password = bootstrapPassword(home);
  const env = {
    ...process.env,
    ES_JAVA_HOME: java,
    ES_PATH_CONF: configDir,
    ES_JAVA_OPTS:
      process.env.APM_SIDECAR_TEST_ES_JAVA_OPTS ?? '-Xms512m -Xmx512m -XX:TieredStopAtLevel=1 -XX:-AlwaysPreTouch',
  };
  chownTree(runDir);
  const out = fs.openSync(path.join(runDir, 'stdout.log'), 'a');
  const child = spawn(path.join(home, 'bin', 'elasticsearch'), [], {
    env,
    detached: true,
    stdio: ['ignore', out, out],
    ...(asRoot ? { uid: nobody, gid: nobody } : {}),
  });
  fs.closeSync(out);
  child.unref();
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `code ${String(code)}, signal ${String(signal)}`));
  const info = { url: `https://127.0.0.1:${httpPort}`, caFile, password, runDir, version: esVersion };
  try {
    await waitForHealth(info, () => exit, startupDeadlineMs);
  } catch (err) {
    stopNode(child.pid ?? 0);
    throw err;
  }
  return { ...info, pid: child.pid ?? 0 };
}

/** SIGTERM to the node's process group (launcher and server JVM); the watchdog follows up with SIGKILL. */
export function stopNode(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
