import { Writable } from 'node:stream';

import { Counter, Registry } from 'prom-client';

import { SidecarError } from '../../../core/errors';
import { createLogger } from '../../../core/log';
import { startMetricsLog } from '../../../core/metrics-log';
import { registerSecrets } from '../../../core/redact';
import { JobContractError } from '../../../queue/contract';
import { LogSink } from '../../support/log-sink';

/** The raw text a logger writes, line by line. */
class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function until<T>(read: () => T | undefined, boundMs = 10_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('log lines', () => {
  it('are ECS JSON: @timestamp, log.level, log.logger, message, ecs.version, error.*', () => {
    const sink = new TextSink();
    const logger = createLogger({ name: 'proxy', level: 'info', destination: sink });
    logger.error({ err: new TypeError('boom'), port: 8200 }, 'intake failed');
    const line = JSON.parse(sink.text.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      'log.level': 'error',
      'log.logger': 'proxy',
      message: 'intake failed',
      port: 8200,
      error: { type: 'TypeError', message: 'boom' },
    });
    expect(typeof line['@timestamp']).toBe('string');
    expect(typeof line['ecs.version']).toBe('string');
    expect(line).not.toHaveProperty('msg');
  });

  it("name the logged error's stable code as ECS error.code", () => {
    const sink = new TextSink();
    const logger = createLogger({ name: 'forwarder', level: 'info', destination: sink });
    logger.error({ err: new JobContractError('v must be equal to 2') }, 'job cannot be read');
    logger.error({ err: new SidecarError('SIDECAR_ERR_ES_AUTH') }, 'refused');
    logger.error({ err: new TypeError('no code') }, 'plain');
    const lines = sink.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { error: Record<string, unknown> });
    expect(lines.map((l) => l.error.code)).toEqual(['SIDECAR_ERR_JOB_CONTRACT', 'SIDECAR_ERR_ES_AUTH', undefined]);
    expect(lines[0]?.error).toMatchObject({
      type: 'JobContractError',
      message: 'invalid intake job: v must be equal to 2',
    });
  });

  it('mask credentials in messages, fields and errors whatever the format', () => {
    registerSecrets(['planted-secret-4711']);
    for (const format of ['json', 'pretty'] as const) {
      const sink = new TextSink();
      const logger = createLogger({ name: 'forwarder', level: 'info', destination: sink, format });
      logger.warn(
        {
          url: 'https://elastic:hunter2@es:9200',
          password: 'p4ss',
          headers: { authorization: 'Bearer b34rer' },
          output: { elasticsearch: { api_key: 'k3y-deep' } },
          errors: [new Error('in a list: planted-secret-4711')],
          err: new Error('token planted-secret-4711', { cause: new Error('cause planted-secret-4711') }),
        },
        'bulk to https://elastic:hunter2@es:9200 failed',
      );
      expect(sink.text).not.toMatch(/hunter2|p4ss|b34rer|k3y-deep|planted-secret-4711/);
    }
  });

  it('on a terminal (format pretty) are one readable line with level, logger and message, not JSON', () => {
    const sink = new TextSink();
    const logger = createLogger({ name: 'proxy', level: 'info', destination: sink, format: 'pretty' });
    logger.info({ port: 8200 }, 'intake listening');
    const first = sink.text.split('\n')[0] ?? '';
    expect(first).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: proxy: intake listening$/);
    expect(sink.text).toContain('port: 8200');
    expect(() => JSON.parse(first) as unknown).toThrow();
  });
});

describe('the periodic metrics line', () => {
  it('says what the counters gained in each period with traffic, and nothing in a quiet one', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ role: 'proxy' });
    const events = new Counter({
      name: 'apm_sidecar_intake_events_total',
      help: 'h',
      labelNames: ['result'],
      registers: [registry],
    });
    const requests = new Counter({ name: 'apm_sidecar_intake_requests_total', help: 'h', registers: [registry] });
    events.inc({ result: 'accepted' }, 1000); // before the log starts: not reported
    const sink = new LogSink();
    const log = startMetricsLog({
      registry,
      logger: sink.logger('proxy', 'info'),
      periodMs: 100,
      counters: ['apm_sidecar_intake_events_total', 'apm_sidecar_intake_requests_total', 'apm_sidecar_absent_total'],
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the baseline reading
      events.inc({ result: 'accepted' }, 40);
      events.inc({ result: 'invalid' }, 2);
      requests.inc(1);
      const line = await until(() => sink.lines.find((l) => l.msg?.startsWith('non-zero metrics') === true));
      expect(line.level).toBe('info');
      expect(line.msg).toBe(
        'non-zero metrics in the last 100ms: intake_events_total 42 (result=accepted 40, result=invalid 2); intake_requests_total 1',
      );
      expect(line.metrics).toEqual({
        intake_events_total: { 'result=accepted': 40, 'result=invalid': 2 },
        intake_requests_total: { all: 1 },
      });
      const count = sink.lines.length;
      await new Promise((resolve) => setTimeout(resolve, 350)); // quiet periods
      expect(sink.lines.length).toBe(count);
    } finally {
      log.close();
    }
  });

  it('is off with a period of 0', async () => {
    const registry = new Registry();
    new Counter({ name: 'apm_sidecar_documents_total', help: 'h', registers: [registry] }).inc(5);
    const sink = new LogSink();
    const log = startMetricsLog({
      registry,
      logger: sink.logger(),
      periodMs: 0,
      counters: ['apm_sidecar_documents_total'],
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    log.close();
    expect(sink.lines).toEqual([]);
  });
});
