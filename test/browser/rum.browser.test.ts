import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { buildSync } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';

import { writerRoleFor, writerRoleName } from '../../elasticsearch/setup/roles';
import { encodeSourceMapContent, sourceMapDocumentId } from '../../forwarder/sourcemap/decode';
import { CliProcess, forwarderProcessConfig } from '../e2e/forwarder/processes';
import { superuser, waitFor } from '../integration/forwarder/support';
import { testPki } from '../support/certs';
import { EsStandin } from '../support/es-standin/server';
import { freePort, waitForPort } from '../support/ports';
import { RedisServer } from '../support/redis';

/**
 * The real @elastic/apm-rum agent in Debian's Chromium (headless, driven by playwright-core) on a page of one
 * origin, sending over TLS to the spawned proxy on another: CORS preflights, anonymous intake v3, the forwarder,
 * and source maps uploaded to the stand-in's .apm-source-map as Kibana stores them.
 */
const chromiumPath = process.env.APM_SIDECAR_CHROMIUM ?? '/usr/bin/chromium';
const serviceName = 'browser-shop';
const serviceVersion = '2.0.1';
const pageDir = path.join(__dirname, 'page');

function spkiHash(certFile: string): string {
  const der = new X509Certificate(fs.readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function bundles(outDir: string): { rum: string; app: string; appMap: string } {
  buildSync({
    entryPoints: [path.join(pageDir, 'rum-entry.js')],
    bundle: true,
    format: 'iife',
    outfile: path.join(outDir, 'rum.js'),
    logLevel: 'silent',
  });
  buildSync({
    entryPoints: [path.join(pageDir, 'app.js')],
    bundle: true,
    minify: true,
    sourcemap: 'external',
    format: 'iife',
    outfile: path.join(outDir, 'app.min.js'),
    logLevel: 'silent',
  });
  return {
    rum: fs.readFileSync(path.join(outDir, 'rum.js'), 'utf8'),
    app: fs.readFileSync(path.join(outDir, 'app.min.js'), 'utf8'),
    appMap: fs.readFileSync(path.join(outDir, 'app.min.js.map'), 'utf8'),
  };
}

function pageHtml(serverUrl: string): string {
  const settings = JSON.stringify({ serviceName, serviceVersion, serverUrl, apiVersion: 3 });
  return (
    `<!doctype html><html><head><title>shop</title><script>window.__rumSettings=${settings}</script>` +
    '<script src="/static/rum.js"></script><script src="/static/app.min.js"></script></head><body><h1>checkout</h1></body></html>'
  );
}

function servePage(port: number, files: Record<string, { type: string; body: string }>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://page').pathname] ?? files['/'];
    res.writeHead(200, { 'Content-Type': file?.type ?? 'text/plain' });
    res.end(file?.body ?? '');
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const docField = (doc: Record<string, unknown> | undefined, dotted: string): unknown =>
  dotted
    .split('.')
    .reduce<unknown>(
      (node, key) => (node !== null && typeof node === 'object' ? Reflect.get(node, key) : undefined),
      doc,
    );

describe('the real RUM agent in headless Chromium against the spawned proxy and forwarder', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let context: BrowserContext | undefined;
  let page: http.Server | undefined;
  let otherPage: http.Server | undefined;
  const processes: CliProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all(processes.map((p) => p.destroy()));
    page?.close();
    otherPage?.close();
    await standin?.close();
    await redis?.destroy();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('indexes the page load, a route change and a source-mapped error; refuses another origin', async () => {
    const started = Date.now();
    const pki = testPki();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-browser-'));
    dirs.push(work);
    const code = bundles(work);
    const [intakePort, pagePort, otherPort] = [await freePort(), await freePort(), await freePort()];
    const pageOrigin = `http://localhost:${pagePort}`;
    const bundleUrl = `${pageOrigin}/static/app.min.js`;

    // the writer with read on .apm-source-map (setup grants it when RUM source mapping is on), and the uploaded map
    const admin = superuser(standin);
    const role = writerRoleFor(true);
    await admin.security.putRole({
      name: writerRoleName,
      cluster: [...role.cluster],
      indices: role.indices.map((i) => ({
        names: [...i.names],
        privileges: [...i.privileges],
        allow_restricted_indices: i.allow_restricted_indices ?? false,
      })),
    });
    await admin.security.putUser({ username: 'rum_writer', password: 'rum-writer-secret', roles: [writerRoleName] });
    await admin.index({
      index: '.apm-source-map',
      id: sourceMapDocumentId(serviceName, serviceVersion, bundleUrl),
      document: {
        fields: { service: { name: serviceName, version: serviceVersion }, file: { path: bundleUrl } },
        content: encodeSourceMapContent(JSON.parse(code.appMap) as object),
        created: new Date().toISOString(),
      },
      refresh: true,
    });
    await admin.close();

    const queueName = `rum-browser-${process.pid}`;
    const rum = { enabled: true, allow_origins: [pageOrigin] };
    const proxy = await CliProcess.start('proxy', 'proxy', {
      server: {
        host: `127.0.0.1:${intakePort}`,
        auth: { secret_tokens: ['browser-test-token'] },
        ssl: { certificate: pki.serverCertFile, key: pki.serverKeyFile },
        rum,
      },
      queue: { redis: { url: redis.url }, name: queueName },
      log: { level: 'info' },
    });
    processes.push(proxy);
    await waitForPort(intakePort);
    processes.push(
      await CliProcess.start(
        'forwarder',
        'forwarder',
        forwarderProcessConfig(
          redis.url,
          queueName,
          { url: standin.url, caFile: standin.caFile, username: 'rum_writer', password: 'rum-writer-secret' },
          { server: { rum } },
        ),
      ),
    );

    const serverUrl = `https://127.0.0.1:${intakePort}`;
    page = await servePage(pagePort, {
      '/': { type: 'text/html', body: pageHtml(serverUrl) },
      '/static/rum.js': { type: 'text/javascript', body: code.rum },
      '/static/app.min.js': { type: 'text/javascript', body: code.app },
    });
    otherPage = await servePage(otherPort, { '/': { type: 'text/html', body: '<!doctype html><title>other</title>' } });

    context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(work, 'profile-')), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spkiHash(pki.serverCertFile)}`,
      ],
    });
    const tab = await context.newPage();
    const pageErrors: string[] = [];
    tab.on('pageerror', (err) => pageErrors.push(err.message));
    await tab.goto(`${pageOrigin}/`);
    await waitFor(
      'the page-load transaction is indexed',
      () => standin.documents('traces-apm.rum-*').some((d) => docField(d.source, 'transaction.type') === 'page-load'),
      30_000,
    );
    await tab.evaluate('window.changeRoute(window.__apm)');
    await tab.evaluate('window.startCheckout()');
    await waitFor(
      'the route change and the error are indexed',
      () =>
        standin.documents('traces-apm.rum-*').some((d) => docField(d.source, 'transaction.type') === 'route-change') &&
        standin.documents('logs-apm.error-*').length > 0,
      30_000,
    );

    const traces = standin.documents('traces-apm.rum-*').map((d) => d.source);
    const pageLoad = traces.find((d) => docField(d, 'transaction.type') === 'page-load');
    expect(docField(pageLoad, 'transaction.name')).toBe('/checkout');
    expect(docField(pageLoad, 'agent.name')).toBe('rum-js');
    expect(docField(pageLoad, 'service.name')).toBe(serviceName);
    expect(docField(pageLoad, 'user_agent.original')).toEqual(expect.stringContaining('Chrome/'));
    expect(docField(pageLoad, 'client.ip')).toBe('127.0.0.1');
    expect(docField(pageLoad, 'transaction.marks.navigationTiming.fetchStart')).toEqual(expect.any(Number));
    const routeChange = traces.find((d) => docField(d, 'transaction.type') === 'route-change');
    expect(docField(routeChange, 'transaction.name')).toBe('/cart');
    expect(
      traces.some(
        (d) =>
          docField(d, 'span.name') === 'render cart' &&
          docField(d, 'parent.id') === docField(routeChange, 'transaction.id'),
      ),
    ).toBe(true);

    const error = standin.documents('logs-apm.error-*')[0]?.source;
    expect(String(docField(error, 'error.exception.0.message'))).toMatch(/cart is empty/);
    const frames = docField(error, 'error.exception.0.stacktrace');
    const mapped = Array.isArray(frames)
      ? frames.filter((f) => docField(f as Record<string, unknown>, 'sourcemap.updated') === true)
      : [];
    expect(mapped.length).toBeGreaterThan(0);
    const top = mapped[0] as Record<string, unknown>;
    expect(String(docField(top, 'filename'))).toMatch(/app\.js$/);
    expect(docField(top, 'line.context')).toBe("    throw new Error('cart is empty');");
    expect(docField(top, 'original.abs_path')).toBe(bundleUrl);
    expect(docField(top, 'abs_path')).toBe(bundleUrl);
    expect(String(docField(error, 'error.culprit'))).toMatch(/app\.js in /);
    expect(pageErrors).toEqual(['cart is empty']);

    // Another origin: its preflight gets no Access-Control-Allow-Origin, and a simple POST (no preflight) gets 403.
    const other = await context.newPage();
    await other.goto(`http://127.0.0.1:${otherPort}/`);
    const outcome = await other.evaluate(async (url) => {
      const simple = await fetch(url, {
        method: 'POST',
        mode: 'no-cors',
        body: '{"m":{}}\n',
        headers: { 'Content-Type': 'text/plain' },
      }).then(
        () => 'sent',
        (e: Error) => e.message,
      );
      const cors = await fetch(url, {
        method: 'POST',
        body: '{"m":{}}\n',
        headers: { 'Content-Type': 'application/x-ndjson' },
      }).then(
        () => 'allowed',
        (e: Error) => e.message,
      );
      return { simple, cors };
    }, `${serverUrl}/intake/v3/rum/events`);
    expect(outcome.simple).toBe('sent');
    expect(outcome.cors).toMatch(/Failed to fetch/);
    await waitFor(
      'the 403 for the other origin is counted',
      async () => (await proxy.admin('/metrics')).body.includes('result="forbidden_origin"'),
      10_000,
    );
    const metrics = (await proxy.admin('/metrics')).body;
    expect(metrics).toMatch(
      /intake_requests_total\{[^}]*status="403"[^}]*\} 1|intake_requests_total\{[^}]*result="forbidden_origin"[^}]*\} 1/,
    );
    expect(standin.documents('*').filter((d) => JSON.stringify(d.source).includes('"m":{}'))).toHaveLength(0);
    expect(proxy.lines.filter((l) => l.level === 'error')).toEqual([]);
    process.stdout.write(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
});
