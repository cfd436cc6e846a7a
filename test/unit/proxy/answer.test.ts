import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { Registry } from 'prom-client';

import { SidecarError } from '../../../core/errors';
import { agentResults, type ResultId } from '../../../core/results';
import { acceptsJson, AgentAnswers, apmErrorBody, type HandledResponse } from '../../../proxy/answer';
import { renderIntakeResponse } from '../../../proxy/intake/response';
import { ProxyMetrics } from '../../../proxy/metrics';
import { otlpErrorBody } from '../../../proxy/otlp/response';
import { LogSink } from '../../support/log-sink';

const failures = Object.entries(agentResults).flatMap(([id, row]) =>
  'code' in row ? [[id as ResultId, row.code] as const] : [],
);

function answers(): { answers: AgentAnswers; sink: LogSink; metrics: ProxyMetrics } {
  const sink = new LogSink();
  const metrics = new ProxyMetrics(new Registry());
  return { answers: new AgentAnswers(metrics, sink.logger()), sink, metrics };
}

/** What a real client receives when `send` writes `response`. */
async function onTheWire(
  a: AgentAnswers,
  response: HandledResponse,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const server = http.createServer((_req, res) => a.send(res, response, 0.001, true, false));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the agent result table and its one renderer', () => {
  test.each(failures)(
    '%s (%s): status, Retry-After, nosniff, Connection: close, {"error": message}',
    async (id, code) => {
      const { answers: a, sink, metrics } = answers();
      const row: { status: number; message: string; retryAfter?: number } = agentResults[id];
      const response = a.fail(new SidecarError(code), { accept: 'application/json' }, { path: '/x' });
      expect(response.result).toBe(id);
      const wire = await onTheWire(a, response);
      expect(wire.status).toBe(row.status);
      expect(wire.body).toBe(`{\n  "error": ${JSON.stringify(row.message)}\n}\n`);
      expect(wire.headers['x-content-type-options']).toBe('nosniff');
      expect(wire.headers.connection).toBe('close');
      expect(wire.headers['content-type']).toBe('application/json');
      expect(wire.headers['retry-after']).toBe(row.retryAfter === undefined ? undefined : String(row.retryAfter));
      const counted = await metrics.registry.getSingleMetricAsString('apm_sidecar_intake_requests_total');
      expect(counted).toContain(`status="${row.status}",result="${id}"`);
      const level = sink.lines.find((l) => l.code === code)?.level;
      expect(level).toBe(row.status >= 500 && row.status !== 503 ? 'error' : 'debug');
    },
  );

  test('any other thrown value, and an operator error, answer internal_error without their message', () => {
    const { answers: a, sink } = answers();
    for (const err of [new Error('bug: x is undefined'), new SidecarError('SIDECAR_ERR_ES_AUTH', 'secret detail')]) {
      const r = a.fail(err, {}, {});
      expect(r).toMatchObject({ status: 500, result: 'internal_error', body: '{"error":"internal server error"}\n' });
      expect(r.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    }
    expect(sink.errors()).toHaveLength(2);
  });

  test('a message given at the throw site is the one the agent reads', () => {
    const r = answers().answers.fail(new SidecarError('SIDECAR_ERR_UNAUTHORIZED', 'authentication failed: x'), {}, {});
    expect(r.body).toBe('{"error":"authentication failed: x"}\n');
  });

  test('OTLP routes: the same status and Retry-After, the body a google.rpc.Status (JSON or protobuf)', () => {
    const { answers: a } = answers();
    const json = a.fail(
      new SidecarError('SIDECAR_ERR_QUEUE_FULL'),
      { 'content-type': 'application/json' },
      {},
      otlpErrorBody,
    );
    expect(json).toMatchObject({ status: 503, body: '{"code":14,"message":"queue is full"}', result: 'queue_full' });
    expect(json.headers).toEqual({ 'Content-Type': 'application/json', 'Retry-After': '5' });
    const proto = a.fail(new SidecarError('SIDECAR_ERR_UNAUTHORIZED'), {}, {}, otlpErrorBody);
    expect(proto.status).toBe(401);
    expect(proto.headers['Content-Type']).toBe('application/x-protobuf');
    // field 1 varint 16 (Unauthenticated), field 2 the message
    expect(Buffer.from(proto.body).subarray(0, 4)).toEqual(Buffer.from([0x08, 16, 0x12, 21]));
  });

  test('success results carry no code; every failure code is unique', () => {
    expect(agentResults.accepted).not.toHaveProperty('code');
    const codes = failures.map(([, code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(apmErrorBody({ ...agentResults.not_found, result: 'not_found', message: 'm' }, {}).body).toBe(
      '{"error":"m"}\n',
    );
  });
});

describe('the intake body encoder, as APM Server writes it', () => {
  test('202: empty body, no Content-Type', () => {
    expect(renderIntakeResponse({ accepted: 3, errors: [] }, { verbose: false, acceptsJson: true })).toEqual({
      status: 202,
      headers: {},
      body: '',
      result: 'accepted',
    });
  });

  test('?verbose: {"accepted":N} indented by two spaces with a trailing newline', () => {
    const r = renderIntakeResponse({ accepted: 3, errors: [] }, { verbose: true, acceptsJson: true });
    expect(r.body).toBe('{\n  "accepted": 3\n}\n');
    expect(r.headers['Content-Type']).toBe('application/json');
  });

  test('at most 5 errors listed, all counted toward the status', () => {
    const errors = Array.from({ length: 7 }, (_, i) => ({
      code: 'SIDECAR_ERR_INVALID_INPUT' as const,
      message: `m${i}`,
      document: `d${i}`,
    }));
    const r = renderIntakeResponse({ accepted: 1, errors }, { verbose: false, acceptsJson: true });
    expect(r).toMatchObject({ status: 400, result: 'validation_error' });
    const parsed = JSON.parse(r.body) as { accepted: number; errors: unknown[] };
    expect(parsed.accepted).toBe(1);
    expect(parsed.errors).toHaveLength(5);
    expect(r.body.indexOf('"message"')).toBeLessThan(r.body.indexOf('"document"'));
  });

  test('status and result are those of the highest error', () => {
    const r = renderIntakeResponse(
      {
        accepted: 0,
        errors: [
          { code: 'SIDECAR_ERR_INVALID_INPUT', message: 'x' },
          { code: 'SIDECAR_ERR_QUEUE_FULL', message: 'queue is full' },
        ],
      },
      { verbose: false, acceptsJson: true },
    );
    expect(r).toMatchObject({ status: 503, result: 'queue_full' });
  });

  test('without an Accept that allows JSON: text/plain, compact JSON (APM Server does the same)', () => {
    const r = renderIntakeResponse(
      { accepted: 0, errors: [{ code: 'SIDECAR_ERR_INVALID_INPUT', message: 'x' }] },
      { verbose: false, acceptsJson: false },
    );
    expect(r.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toBe('{"accepted":0,"errors":[{"message":"x"}]}\n');
  });

  test('HTML characters escaped as Go does', () => {
    const r = renderIntakeResponse(
      { accepted: 0, errors: [{ code: 'SIDECAR_ERR_INVALID_INPUT', message: 'a', document: '<b>&\u2028' }] },
      { verbose: false, acceptsJson: false },
    );
    expect(r.body).toContain('"document":"\\u003cb\\u003e\\u0026\\u2028"');
  });

  test.each([
    [undefined, false],
    ['application/json', true],
    ['*/*', true],
    ['text/html, application/json;q=0.9', true],
    ['text/plain', false],
  ])('acceptsJson(%p) = %p', (header, expected) => {
    expect(acceptsJson(header)).toBe(expected);
  });
});
