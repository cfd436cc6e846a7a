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
    ['a version it does not know', { ...v1Job, v: 99 }, 'unsupported schema version 99 (this build reads 1 to 2)'],
    [
      'an unknown OTLP signal',
      { ...v1Job, v: 2, otlp: { signal: 'profiles', format: 'protobuf' } },
      'otlp.signal must be equal to one of the allowed values (traces, metrics, logs)',
    ],
    [
      'an unknown OTLP format',
      { ...v1Job, v: 2, otlp: { signal: 'traces', format: 'thrift' } },
      'otlp.format must be equal to one of the allowed values (protobuf, json)',
    ],
    [
      'an API key identity without id',
      { ...v1Job, identity: { kind: 'api_key' } },
      "identity must have required property 'id'",
    ],
    [
      'a user agent of the wrong type',
      { ...v1Job, client: { ip: '10.0.0.1', userAgent: 7 } },
      'client.userAgent must be string or null',
    ],
    ['an empty request id', { ...v1Job, requestId: '' }, 'requestId must not be ""'],
    ['a job that is not an object', 'intake', 'data must be object'],
  ])('refuses %s, naming the path that failed', (_name, job, problem) => {
    expect(() => parseIntakeJobData(job)).toThrow(new JobContractError(problem));
  });
});
