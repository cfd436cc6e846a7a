import type { Attributes, OtlpValue, Resource, ResourceItems, Scope } from '../../../queue/otlp/model';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import type { DocumentScope } from './documents';
import { intOf, LabelSet, stringOf, truncate } from './labels';

/**
 * A resource (and scope) as the fields every document of it carries, by APM Server's translateResourceMetadata:
 * service.*, agent.* (telemetry.sdk.* + distro), host, process, cloud, container, kubernetes, os; every other
 * resource attribute becomes a global label.
 */
export interface ResourceFields {
  readonly fields: Record<string, Record<string, unknown>>;
  readonly labels: LabelSet;
  readonly dataStream: DataStreamOverride;
  readonly serviceName: string;
  readonly language: string;
}

type Setter = (fields: Record<string, Record<string, unknown>>, value: OtlpValue) => void;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function at(fields: Record<string, Record<string, unknown>>, path: readonly string[], value: unknown): void {
  const [top, ...rest] = path;
  if (top === undefined) return;
  let node = (fields[top] ??= {});
  for (let i = 0; i < rest.length - 1; i++) {
    const key = rest[i] ?? '';
    const next = node[key];
    const child: Record<string, unknown> = isObject(next) ? next : {};
    node[key] = child;
    node = child;
  }
  const last = rest[rest.length - 1];
  if (last !== undefined) node[last] = value;
}

function str(path: string): Setter {
  const parts = path.split('.');
  return (fields, value) => {
    const s = stringOf(value);
    if (s !== undefined) at(fields, parts, truncate(s));
  };
}

const setters: ReadonlyMap<string, Setter> = new Map<string, Setter>([
  ['service.version', str('service.version')],
  ['service.instance.id', str('service.node.name')],
  ['deployment.environment', str('service.environment')],
  ['deployment.environment.name', str('service.environment')],
  ['cloud.provider', str('cloud.provider')],
  ['cloud.account.id', str('cloud.account.id')],
  ['cloud.region', str('cloud.region')],
  ['cloud.availability_zone', str('cloud.availability_zone')],
  ['cloud.platform', str('cloud.service.name')],
  ['container.name', str('container.name')],
  ['container.id', str('container.id')],
  ['container.image.name', str('container.image.name')],
  ['container.image.tag', str('container.image.tag')],
  ['container.runtime', str('container.runtime')],
  ['k8s.namespace.name', str('kubernetes.namespace')],
  ['k8s.node.name', str('kubernetes.node.name')],
  ['k8s.pod.name', str('kubernetes.pod.name')],
  ['k8s.pod.uid', str('kubernetes.pod.uid')],
  ['host.name', str('host.hostname')],
  ['host.id', str('host.id')],
  ['host.type', str('host.type')],
  ['host.arch', str('host.architecture')],
  ['process.command_line', str('process.args')],
  ['process.executable.path', str('process.executable')],
  ['process.runtime.name', str('service.runtime.name')],
  ['process.runtime.version', str('service.runtime.version')],
  ['process.owner', str('user.name')],
  ['os.type', str('host.os.platform')],
  ['os.description', str('host.os.full')],
  ['os.name', str('host.os.name')],
  ['os.version', str('host.os.version')],
  ['device.id', str('device.id')],
  ['device.model.identifier', str('device.model.identifier')],
  ['device.model.name', str('device.model.name')],
  ['device.manufacturer', str('device.manufacturer')],
  [
    'process.pid',
    (fields, value) => {
      const pid = intOf(value);
      if (pid !== undefined) at(fields, ['process', 'pid'], pid);
    },
  ],
  [
    'host.ip',
    (fields, value) => {
      if (Array.isArray(value))
        at(
          fields,
          ['host', 'ip'],
          value.filter((v): v is string => typeof v === 'string'),
        );
    },
  ],
]);

/** Read elsewhere (service.name, telemetry.*), never labels. */
const consumed = new Set([
  'service.name',
  'telemetry.sdk.name',
  'telemetry.sdk.version',
  'telemetry.sdk.language',
  'telemetry.distro.name',
  'telemetry.distro.version',
  'telemetry.sdk.elastic_export_timestamp',
]);

function cleanServiceName(name: string): string {
  return truncate(name).replace(/[^a-zA-Z0-9 _-]/g, '_');
}

function osType(platform: unknown, name: unknown): string | undefined {
  if (name === 'Android') return 'android';
  if (name === 'iOS') return 'ios';
  if (platform === 'windows' || platform === 'linux') return platform;
  if (platform === 'darwin') return 'macos';
  if (platform === 'aix' || platform === 'hpux' || platform === 'solaris') return 'unix';
  return undefined;
}

function agentFields(attributes: Attributes, language: string): Record<string, unknown> {
  const sdkName = stringOf(attributes.get('telemetry.sdk.name'));
  const sdkVersion = stringOf(attributes.get('telemetry.sdk.version'));
  const distroName = stringOf(attributes.get('telemetry.distro.name'));
  const distroVersion = stringOf(attributes.get('telemetry.distro.version'));
  const base = sdkName === undefined || sdkName === '' ? 'otlp' : truncate(sdkName);
  if (distroName !== undefined && distroName !== '') {
    return {
      name: `${base}/${language === '' ? 'unknown' : language}/${distroName}`,
      version: distroVersion === undefined || distroVersion === '' ? 'unknown' : distroVersion,
    };
  }
  return {
    name: language === '' ? base : `${base}/${language}`,
    version: sdkVersion === undefined || sdkVersion === '' ? 'unknown' : truncate(sdkVersion),
  };
}

function resourceFields(resource: Resource): ResourceFields {
  const fields: Record<string, Record<string, unknown>> = {};
  const labels = new LabelSet();
  const dataStream: DataStreamOverride = {};
  for (const [key, value] of resource.attributes) {
    if (consumed.has(key) || readDataStreamAttribute(key, value, dataStream)) continue;
    const setter = setters.get(key);
    if (setter !== undefined) setter(fields, value);
    else labels.set(key, value);
  }
  const rawName = stringOf(resource.attributes.get('service.name'));
  const serviceName = rawName === undefined || rawName === '' ? 'unknown' : cleanServiceName(rawName);
  const language = truncate(stringOf(resource.attributes.get('telemetry.sdk.language')) ?? '');
  const service = (fields.service ??= {});
  service.name = serviceName;
  service.language = { name: language === '' ? 'unknown' : language };
  fields.agent = agentFields(resource.attributes, language);
  const os = fields.host?.os;
  if (isObject(os)) {
    const type = osType(os.platform, os.name);
    if (type !== undefined) os.type = type;
  }
  return { fields, labels, dataStream, serviceName, language };
}

/** service.framework from the instrumentation scope, and the scope's data_stream.* attributes. */
function scopeFields(scope: Scope, into: DataStreamOverride): { name: string; version?: string } | undefined {
  for (const [key, value] of scope.attributes) readDataStreamAttribute(key, value, into);
  if (scope.name === '') return undefined;
  return scope.version === '' ? { name: scope.name } : { name: scope.name, version: scope.version };
}

/**
 * Each scope of a request with the fields its documents share, and its items; the data stream is copied per scope,
 * since a scope's own data_stream.* attributes apply to it alone.
 */
export function* scopesOf<T>(
  resources: ReadonlyArray<ResourceItems<T>>,
): Generator<readonly [DocumentScope, ReadonlyArray<T>]> {
  for (const r of resources) {
    const resource = resourceFields(r.resource);
    for (const s of r.scopes) {
      const dataStream = { ...resource.dataStream };
      yield [{ resource, framework: scopeFields(s.scope, dataStream), dataStream }, s.items];
    }
  }
}
