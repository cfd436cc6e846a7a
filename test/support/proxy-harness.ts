import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { loadConfig } from '../../config/load';
import type { SidecarConfig } from '../../config/schema';
import { type RunningProxy, startProxy } from '../../proxy/proxy';
import { testPki } from './certs';
import { LogSink } from './log-sink';
import type { RedisServer } from './redis';

export const testToken = 'test-secret-token';

export interface HarnessOptions {
  readonly redis: RedisServer;
  /** Config values over the harness defaults (TLS from testPki, one token, random queue, ports 0). */
  readonly overrides?: Record<string, unknown>;
  readonly tls?: boolean;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The body as bytes (binary answers: OTLP protobuf). */
  readonly raw?: Buffer;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    const bothObjects = [current, value].every((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
    out[key] = bothObjects ? merge(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

/** The proxy started in-process on port 0 against a real redis-server and real TLS, with a log sink. */
export class ProxyHarness {
  readonly queue: Queue;

  private constructor(
    readonly sink: LogSink,
    readonly config: SidecarConfig,
    readonly proxy: RunningProxy,
    readonly tls: boolean,
    private readonly queueConnection: Redis,
  ) {
    this.queue = new Queue(config.queue.name, { connection: queueConnection });
  }

  static configFor(options: HarnessOptions): SidecarConfig {
    const pki = testPki();
    const tls = options.tls !== false;
    const defaults: Record<string, unknown> = {
      server: {
        host: '127.0.0.1:0',
        auth: { secret_tokens: [testToken], allow_insecure: !tls },
        ssl: tls ? { certificate: pki.serverCertFile, key: pki.serverKeyFile } : {},
        shutdown_timeout: '5s',
      },
      admin: { host: '127.0.0.1:0' },
      queue: { redis: { url: options.redis.url, command_timeout: '1s' }, name: `test-${randomUUID()}` },
      log: { level: 'debug' },
    };
    return loadConfig({ env: {}, overrides: merge(defaults, options.overrides ?? {}) }).config;
  }

  static async start(options: HarnessOptions): Promise<ProxyHarness> {
    const config = ProxyHarness.configFor(options);
    const sink = new LogSink();
    const proxy = await startProxy(config, sink.logger('proxy'));
    return new ProxyHarness(
      sink,
      config,
      proxy,
      options.tls !== false,
      new Redis(options.redis.url, { maxRetriesPerRequest: null }),
    );
  }

  get baseUrl(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.proxy.intake.port}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.proxy.admin.port}`;
  }

  request(path: string, options: RequestOptions = {}): Promise<HttpResult> {
    return httpRequest(`${this.baseUrl}${path}`, options);
  }

  admin(path: string): Promise<HttpResult> {
    return httpRequest(`${this.adminUrl}${path}`);
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    this.queueConnection.disconnect();
  }
}

/** One request on a fresh connection; https URLs trust the test CA. */
export function httpRequest(
  url: string,
  options: RequestOptions & { readonly tlsOptions?: https.RequestOptions } = {},
): Promise<HttpResult> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const requestOptions: https.RequestOptions = {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    agent: false,
    ...(secure ? { ca: testPki().ca.cert, ...options.tlsOptions } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(target, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls until the condition holds; a generous deadline instead of a timing assertion. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
