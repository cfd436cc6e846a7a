import { JobContractError, jobSchemaVersion, parseIntakeJobData } from '../../../queue/contract';

const v1Job = {
  v: 1,
  requestId: '6f1c7a8e-2b1d-4c55-9a51-2a0c1d6d7e11',
  receivedAt: 1_700_000_000_000,
  identity: { kind: 'secret_token', id: '0' },
  client: { ip: '10.0.0.1', userAgent: 'apm-agent-nodejs/4.18.0' },
  encoding: 'gzip',
  body: 'H4sIAAAAAAAAAwMAAAAAAAAAAAA=',
  events: 1,
  rawBytes: 10,
};

describe('job contract versions', () => {
  it('still reads a version 1 job (queued by an older proxy) as an intake v2 job', () => {
    const data = parseIntakeJobData(v1Job);
    expect(data.otlp).toBeUndefined();
    expect(data).toMatchObject({ requestId: v1Job.requestId, events: 1, encoding: 'gzip' });
  });

  it('reads the OTLP signal and format of a version 2 job', () => {
    const data = parseIntakeJobData({ ...v1Job, v: jobSchemaVersion, otlp: { signal: 'metrics', format: 'json' } });
    expect(data.otlp).toEqual({ signal: 'metrics', format: 'json' });
  });

  it.each([
    ['a version it does not know', { ...v1Job, v: 99 }],
    ['an unknown OTLP signal', { ...v1Job, v: 2, otlp: { signal: 'profiles', format: 'protobuf' } }],
    ['an unknown OTLP format', { ...v1Job, v: 2, otlp: { signal: 'traces', format: 'thrift' } }],
  ])('refuses %s', (_name, job) => {
    expect(() => parseIntakeJobData(job)).toThrow(JobContractError);
  });
});
