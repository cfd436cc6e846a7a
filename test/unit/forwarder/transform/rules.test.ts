import { type ApmDocument, createJobTransformer, type TransformContext } from '../../../../forwarder/transform';
import { canonicalHeaderKey } from '../../../../forwarder/transform/http';
import { canonicalIp } from '../../../../forwarder/transform/net';
import { normalizeServiceName } from '../../../../forwarder/transform/routing';

const ctx: TransformContext = {
  receivedAt: Date.UTC(2024, 4, 1, 12, 0, 0, 250),
  client: { ip: '10.1.2.3', userAgent: 'elastic-apm-node/4.18.0' },
  identity: { kind: 'api_key', id: 'key-id-1' },
  namespace: 'prod',
};

function metadata(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    metadata: {
      service: { name: 'My Service:Web', agent: { name: 'nodejs', version: '4.18.0' } },
      labels: { team: 'a', weight: 3 },
      ...extra,
    },
  });
}

function one(line: Record<string, unknown>, meta = metadata()): ApmDocument {
  const result = createJobTransformer(meta, ctx).transform(JSON.stringify(line));
  if (!result.ok) throw new Error(result.reason);
  return result.doc;
}

describe('routing', () => {
  it('sanitises the service name as APM Server does', () => {
    expect(normalizeServiceName('My Service:Web-1/a*b')).toBe('my_service_web_1_a_b');
  });

  it.each([
    [{ transaction: { id: 'a', trace_id: 't', type: 'request', duration: 1 } }, 'traces-apm-prod'],
    [{ span: { id: 'b', trace_id: 't', parent_id: 'a', type: 'db', name: 'q', duration: 1 } }, 'traces-apm-prod'],
    [{ error: { id: 'e', exception: { message: 'boom' } } }, 'logs-apm.error-prod'],
    [{ log: { message: 'hello' } }, 'logs-apm.app.my_service_web-prod'],
    [{ metricset: { samples: { 'nodejs.handles.active': { value: 1 } } } }, 'metrics-apm.internal-prod'],
    [{ metricset: { samples: { 'orders.count': { value: 1 } } } }, 'metrics-apm.app.my_service_web-prod'],
  ])('routes %j to %s', (event, stream) => {
    const doc = one(event);
    expect(doc.dataStream).toBe(stream);
    expect(doc.source.data_stream).toEqual({
      type: stream.split('-')[0],
      dataset: stream.split('-')[1],
      namespace: 'prod',
    });
  });
});

describe('document fields', () => {
  it('records the credential identity and observer, never the credential', () => {
    const doc = one({ transaction: { id: 'a', trace_id: 't', type: 'request', duration: 1 } });
    expect(doc.source.apm_sidecar).toEqual({ identity: { kind: 'api_key', id: 'key-id-1' } });
    expect(doc.source.observer).toEqual({ type: 'apm-sidecar' });
    expect(doc.source.host).toEqual({ ip: ['10.1.2.3'] });
  });

  it('uses the receive time when the event has no timestamp', () => {
    const doc = one({ transaction: { id: 'a', trace_id: 't', type: 'request', duration: 1.5 } });
    expect(doc.source['@timestamp']).toBe('2024-05-01T12:00:00.250Z');
    expect(doc.source.timestamp).toEqual({ us: Date.UTC(2024, 4, 1, 12, 0, 0, 250) * 1000 });
    expect(doc.source.transaction).toMatchObject({ duration: { us: 1500 }, sampled: true, representative_count: 1 });
    const early = one({
      transaction: { id: 'a', trace_id: 't', type: 'request', duration: 1, timestamp: 1496170407154321 },
    });
    expect(early.source['@timestamp']).toBe('2017-05-30T18:53:27.154Z');
  });

  it('splits labels by type and lets event tags override metadata labels', () => {
    const doc = one({
      span: {
        id: 'b',
        trace_id: 't',
        parent_id: 'a',
        type: 'db.mysql.query',
        name: 'q',
        duration: 1,
        context: { tags: { team: 'b', ok: true, 'a.b': 2, gone: null } },
      },
    });
    expect(doc.source.labels).toEqual({ team: 'b', ok: 'true' });
    expect(doc.source.numeric_labels).toEqual({ weight: 3, a_b: 2 });
    expect(doc.source.span).toMatchObject({ type: 'db', subtype: 'mysql', action: 'query' });
  });

  it('derives outcome and success_count from the HTTP status when no outcome is given', () => {
    const doc = one({
      transaction: {
        id: 'a',
        trace_id: 't',
        type: 'request',
        duration: 1,
        context: { response: { status_code: 503 } },
      },
    });
    expect(doc.source.event).toEqual({ outcome: 'failure', success_count: 0 });
  });

  it('sets host.hostname to the Kubernetes node name', () => {
    const meta = metadata({ system: { detected_hostname: 'box', kubernetes: { node: { name: 'node-7' } } } });
    const doc = one({ transaction: { id: 'a', trace_id: 't', type: 'request', duration: 1 } }, meta);
    expect(doc.source.host).toMatchObject({ hostname: 'node-7', name: 'node-7' });
    expect(doc.source.service).toMatchObject({ node: { name: 'node-7' } });
  });

  it('computes an error grouping key and message', () => {
    const doc = one({
      error: {
        id: 'e',
        exception: {
          type: 'TypeError',
          message: 'x is undefined',
          stacktrace: [{ filename: 'a.js', function: 'f', lineno: 3 }],
        },
      },
    });
    expect(doc.source.error).toMatchObject({
      grouping_key: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      grouping_name: 'x is undefined',
    });
    expect(doc.source.message).toBe('x is undefined');
  });

  it('keeps histogram samples and asks for the histogram dynamic template', () => {
    const doc = one({ metricset: { samples: { latency: { type: 'histogram', values: [1, 2], counts: [3, 4] } } } });
    expect(doc.source.latency).toEqual({ values: [1, 2], counts: [3, 4] });
    expect(doc.dynamicTemplates).toEqual({ latency: 'histogram' });
  });
});

describe('robustness', () => {
  it('turns unmappable lines into outcomes with reasons', () => {
    const transformer = createJobTransformer(metadata(), ctx);
    for (const line of ['', 'nope', '[]', '{}', '{"profile":{}}', '{"span":"x"}']) {
      const result = transformer.transform(line);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).not.toBe('');
    }
  });

  it('ignores unknown and mistyped fields', () => {
    const doc = one({
      span: {
        id: 5,
        trace_id: ['x'],
        type: 7,
        duration: 'long',
        extra: { deep: [1, { a: null }] },
        context: { db: 'no', tags: 'no' },
      },
    });
    expect(doc.source.span).toMatchObject({ type: 'unknown' });
  });

  it('fails every event of a job whose metadata line is bad, with a reason', () => {
    const result = createJobTransformer('{"metadata": 1}', ctx).transform('{"log":{"message":"m"}}');
    expect(result).toEqual({ ok: false, reason: 'metadata line has no "metadata" object' });
  });
});

describe('helpers', () => {
  it('canonicalises header keys like Go', () => {
    expect(canonicalHeaderKey('user-agent')).toBe('User-Agent');
    expect(canonicalHeaderKey('user_id')).toBe('User_id');
    expect(canonicalHeaderKey('bad key')).toBe('bad key');
  });

  it('prints IPv6 addresses canonically', () => {
    expect(canonicalIp('0:0::0:1')).toBe('::1');
    expect(canonicalIp('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('nope')).toBeUndefined();
  });
});
