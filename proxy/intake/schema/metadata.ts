import { arr, int, labels, obj, patterns, root, type SchemaNode, str } from './builders';
import { user } from './shared';

/** The first line of every intake request: `{"metadata": {...}}` (APM Server intake v2 metadata rules). */

const service = (): SchemaNode =>
  obj(
    {
      agent: obj(
        {
          activation_method: str(),
          ephemeral_id: str(),
          name: str({ minLength: 1 }),
          version: str(),
        },
        { required: ['name', 'version'] },
      ),
      environment: str(),
      framework: obj({ name: str(), version: str() }),
      id: str({ maxLength: null }),
      language: obj({ name: str(), version: str() }, { required: ['name'] }),
      name: str({ minLength: 1, pattern: patterns.patternAlphaNumericExt }),
      node: obj({ configured_name: str() }),
      runtime: obj({ name: str(), version: str() }, { required: ['name', 'version'] }),
      version: str(),
    },
    { required: ['agent', 'name'] },
  );

const idName = (): SchemaNode => obj({ id: str(), name: str() });

const cloud = (): SchemaNode =>
  obj(
    {
      account: idName(),
      availability_zone: str(),
      instance: idName(),
      machine: obj({ type: str() }),
      project: idName(),
      provider: str(),
      region: str(),
      service: obj({ name: str() }),
    },
    { required: ['provider'] },
  );

const system = (): SchemaNode =>
  obj({
    architecture: str(),
    configured_hostname: str(),
    container: obj({ id: str() }),
    detected_hostname: str(),
    hostname: str(),
    kubernetes: obj({
      namespace: str(),
      node: obj({ name: str() }),
      pod: obj({ name: str(), uid: str() }),
    }),
    platform: str(),
    host_id: str(),
  });

const processInfo = (): SchemaNode =>
  obj(
    {
      argv: arr({ type: 'string' }),
      title: str(),
      pid: int(),
      ppid: int(),
    },
    { required: ['pid'] },
  );

export const metadataSchema: SchemaNode = root(
  'metadata',
  obj(
    {
      labels: labels(),
      service: service(),
      cloud: cloud(),
      system: system(),
      user: user(),
      network: obj({ connection: obj({ type: str() }) }),
      process: processInfo(),
    },
    { required: ['service'] },
  ),
);
