import { SidecarError } from '../../../../core/errors';
import { acceptsJson, renderErrorResponse, renderIntakeResponse } from '../../../../proxy/intake/response';

describe('intake responses as APM Server writes them', () => {
  test('202: empty body, nosniff, no Connection: Close', () => {
    expect(renderIntakeResponse({ accepted: 3, errors: [] }, { verbose: false, acceptsJson: true })).toEqual({
      status: 202,
      headers: { 'X-Content-Type-Options': 'nosniff' },
      body: '',
    });
  });

  test('?verbose: {"accepted":N} indented by two spaces with a trailing newline', () => {
    const r = renderIntakeResponse({ accepted: 3, errors: [] }, { verbose: true, acceptsJson: true });
    expect(r.body).toBe('{\n  "accepted": 3\n}\n');
    expect(r.headers['Content-Type']).toBe('application/json');
  });

  test('at most 5 errors listed, all counted toward the status; Connection: Close', () => {
    const errors = Array.from({ length: 7 }, (_, i) => ({
      code: 'SIDECAR_ERR_INVALID_INPUT' as const,
      message: `m${i}`,
      document: `d${i}`,
    }));
    const r = renderIntakeResponse({ accepted: 1, errors }, { verbose: false, acceptsJson: true });
    expect(r.status).toBe(400);
    expect(r.headers.Connection).toBe('Close');
    const parsed = JSON.parse(r.body) as { accepted: number; errors: unknown[] };
    expect(parsed.accepted).toBe(1);
    expect(parsed.errors).toHaveLength(5);
    expect(r.body.indexOf('"message"')).toBeLessThan(r.body.indexOf('"document"'));
  });

  test('status is the highest among the errors', () => {
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
    expect(r.status).toBe(503);
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

  test('simple failures: {"error": ...}', () => {
    const r = renderErrorResponse(new SidecarError('SIDECAR_ERR_SHUTTING_DOWN'), true);
    expect(r).toEqual({
      status: 503,
      headers: { 'X-Content-Type-Options': 'nosniff', Connection: 'Close', 'Content-Type': 'application/json' },
      body: '{\n  "error": "server is shutting down"\n}\n',
    });
    expect(renderErrorResponse(new Error('bug'), false).status).toBe(500);
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
