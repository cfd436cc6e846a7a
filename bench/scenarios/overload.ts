import { Redis } from 'ioredis';

import { RedisServer } from '../../test/support/redis';
import { progress, stop } from '../processes';
import { peakRss } from '../procstat';
import type { ScenarioResult } from '../report';
import { type IntakeBenchOptions, runLoad, startProxyProcess } from './intake';

const mib = 1024 * 1024;

/**
 * p99 of the proxy's own request_duration_seconds histogram for one status, read from /metrics: the bucket
 * bound below which 99% of the answers fell (an upper bound of the true p99).
 */
export async function serverP99Ms(adminPort: number, status: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const buckets: Array<{ le: number; count: number }> = [];
  for (const m of text.matchAll(/^apm_sidecar_request_duration_seconds_bucket\{([^}]*)\} (\d+)$/gm)) {
    const labels = new Map([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.get('status') !== status) continue;
    const le = labels.get('le') ?? '+Inf';
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(m[2]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const bucket = buckets.find((b) => b.count >= 0.99 * total);
  return bucket === undefined || total === 0 ? 0 : bucket.le * 1000;
}

async function usedMemory(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    const info = await client.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? '0');
  } finally {
    client.disconnect();
  }
}

/**
 * Scenario 3: overload. No forwarder drains the queue, so everything offered beyond the high-water mark must be
 * refused fast with 503 + Retry-After while the proxy's memory stays flat. Measures proxy peak RSS, Redis bytes per
 * accepted raw intake byte, the share of 503s and their latency, and any answer other than 202/503.
 */
export async function overloadScenario(
  options: IntakeBenchOptions & { readonly highWaterBytes: number },
): Promise<ScenarioResult> {
  progress(
    `overload: proxy with no forwarder, high-water mark ${options.highWaterBytes / mib} MiB, ${options.seconds}s of load`,
  );
  const redis = await RedisServer.start();
  try {
    const before = await usedMemory(redis.url);
    const proxy = await startProxyProcess(options, redis.url, {
      APM_SIDECAR_QUEUE_HIGH_WATER_MARK_BYTES: String(options.highWaterBytes),
    });
    const load = await runLoad(proxy.url, options);
    const rss = peakRss(proxy.child.pid ?? 0);
    const p99 = await serverP99Ms(proxy.adminPort, '503');
    const after = await usedMemory(redis.url);
    await stop(proxy.child);
    const total = load.requests;
    const count503 = load.byStatus['503'] ?? 0;
    const other = total - count503 - (load.byStatus['202'] ?? 0) + load.networkErrors;
    const bytesPerRaw = load.rawBytesAccepted > 0 ? (after - before) / load.rawBytesAccepted : 0;
    const met = rss <= 256 * mib && p99 < 5 && other === 0 && bytesPerRaw <= 0.35 && count503 > 0;
    return {
      scenario: 'overload',
      metric: '503 p99 ms (proxy, from its histogram)',
      ours: p99,
      baseline: null,
      ratio: null,
      goal: 'RSS <= 256 MiB, 503 p99 < 5 ms, no other error, Redis bytes/raw byte <= 0.35',
      met,
      details: {
        'requests offered': total,
        'share of 503': total > 0 ? count503 / total : 0,
        '503 p99 ms at the proxy (histogram bucket bound)': p99,
        '503 p50 ms seen by the client': load.latency503Ms?.p50 ?? 0,
        '503 p99 ms seen by the client': load.latency503Ms?.p99 ?? 0,
        'proxy peak RSS MiB': rss / mib,
        'Redis bytes per raw intake byte': bytesPerRaw,
        'answers other than 202/503 (incl. network errors)': other,
        statuses: JSON.stringify(load.byStatus),
      },
    };
  } finally {
    await redis.destroy();
  }
}
