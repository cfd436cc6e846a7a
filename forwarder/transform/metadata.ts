import { type JsonObject, num, obj, orUndefined, put, str, strings } from './json';
import { type Labels, mergeLabels, noLabels } from './labels';
import { canonicalIp } from './net';

/** What one job's metadata line contributes to every document of the job, computed once. */
export interface JobMetadata {
  /** service.*, with service.node.name already defaulted (container id, else host name). */
  readonly service: JsonObject | undefined;
  readonly agent: JsonObject | undefined;
  readonly user: JsonObject | undefined;
  readonly cloud: JsonObject | undefined;
  readonly labels: Labels;
  /** Fields copied unchanged onto every document: host, process, container, kubernetes, network. */
  readonly shared: JsonObject;
  /** service.node.name for events whose own context.service replaces the node: container id, else host name. */
  readonly defaultNodeName: string | undefined;
  readonly agentName: string;
}

function nameVersion(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'name', str(from, 'name'));
  put(out, 'version', str(from, 'version'));
  return orUndefined(out);
}

/** service.* from metadata.service or an event's context.service (same shape). */
export function serviceDoc(from: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'name', str(from, 'name'));
  put(out, 'version', str(from, 'version'));
  put(out, 'environment', str(from, 'environment'));
  const nodeName = str(obj(from, 'node'), 'configured_name');
  if (nodeName !== undefined) out.node = { name: nodeName };
  put(out, 'language', nameVersion(obj(from, 'language')));
  put(out, 'runtime', nameVersion(obj(from, 'runtime')));
  put(out, 'framework', nameVersion(obj(from, 'framework')));
  return out;
}

export function agentDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'name', str(from, 'name'));
  put(out, 'version', str(from, 'version'));
  put(out, 'ephemeral_id', str(from, 'ephemeral_id'));
  put(out, 'activation_method', str(from, 'activation_method'));
  return orUndefined(out);
}

/** user.*: APM Server formats a numeric id as a string. */
export function userDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'domain', str(from, 'domain'));
  const id = from.id;
  if ((typeof id === 'string' && id !== '') || typeof id === 'number') out.id = String(id);
  put(out, 'email', str(from, 'email'));
  put(out, 'name', str(from, 'username'));
  return orUndefined(out);
}

function cloudDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  const pair = (key: string, a: string, b: string): void => {
    const src = obj(from, key);
    const o: JsonObject = {};
    put(o, a, str(src, a));
    put(o, b, str(src, b));
    put(out, key, orUndefined(o));
  };
  pair('account', 'id', 'name');
  pair('instance', 'id', 'name');
  pair('project', 'id', 'name');
  put(out, 'availability_zone', str(from, 'availability_zone'));
  const machineType = str(obj(from, 'machine'), 'type');
  if (machineType !== undefined) out.machine = { type: machineType };
  put(out, 'provider', str(from, 'provider'));
  put(out, 'region', str(from, 'region'));
  const serviceName = str(obj(from, 'service'), 'name');
  if (serviceName !== undefined) out.service = { name: serviceName };
  return orUndefined(out);
}

function processDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'pid', num(from, 'pid'));
  put(out, 'title', str(from, 'title'));
  put(out, 'args', strings(from, 'argv'));
  const ppid = num(from, 'ppid');
  if (ppid !== undefined && ppid > 0) out.parent = { pid: ppid };
  return orUndefined(out);
}

function kubernetesDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'namespace', str(from, 'namespace'));
  const nodeName = str(obj(from, 'node'), 'name');
  if (nodeName !== undefined) out.node = { name: nodeName };
  const pod: JsonObject = {};
  put(pod, 'name', str(obj(from, 'pod'), 'name'));
  put(pod, 'uid', str(obj(from, 'pod'), 'uid'));
  put(out, 'pod', orUndefined(pod));
  return orUndefined(out);
}

/**
 * host.* after APM Server's SetHostHostname rule: inside Kubernetes host.hostname is the node name (or absent when
 * only pod fields are known); host.name falls back to host.hostname. host.ip is the client address the proxy saw.
 */
function hostDoc(
  system: JsonObject | undefined,
  kubernetes: JsonObject | undefined,
  clientIp: string,
): JsonObject | undefined {
  const out: JsonObject = {};
  const configured = str(system, 'configured_hostname');
  const detected = str(system, 'detected_hostname');
  let hostname = detected ?? (configured === undefined ? str(system, 'hostname') : undefined);
  const nodeName = str(obj(kubernetes, 'node'), 'name');
  if (nodeName !== undefined) hostname = nodeName;
  else if (
    kubernetes !== undefined &&
    (str(kubernetes, 'namespace') ?? str(obj(kubernetes, 'pod'), 'name') ?? str(obj(kubernetes, 'pod'), 'uid')) !==
      undefined
  ) {
    hostname = undefined;
  }
  put(out, 'hostname', hostname);
  put(out, 'name', configured ?? hostname);
  put(out, 'id', str(system, 'host_id'));
  put(out, 'architecture', str(system, 'architecture'));
  const platform = str(system, 'platform');
  if (platform !== undefined) out.os = { platform };
  const ip = canonicalIp(clientIp);
  if (ip !== undefined) out.ip = [ip];
  return orUndefined(out);
}

/** Parses the metadata object (the value of the first line's "metadata" key). */
export function parseMetadata(metadata: JsonObject, clientIp: string): JobMetadata {
  const system = obj(metadata, 'system');
  const kubernetes = kubernetesDoc(obj(system, 'kubernetes'));
  const host = hostDoc(system, kubernetes, clientIp);
  const containerId = str(obj(system, 'container'), 'id');
  const shared: JsonObject = {};
  put(shared, 'host', host);
  put(shared, 'process', processDoc(obj(metadata, 'process')));
  if (containerId !== undefined) shared.container = { id: containerId };
  put(shared, 'kubernetes', kubernetes);
  const connectionType = str(obj(obj(metadata, 'network'), 'connection'), 'type');
  if (connectionType !== undefined) shared.network = { connection: { type: connectionType } };

  const serviceFrom = obj(metadata, 'service');
  const defaultNodeName = containerId ?? (typeof host?.name === 'string' ? host.name : undefined);
  const service = serviceFrom === undefined ? undefined : serviceDoc(serviceFrom);
  if (service !== undefined && service.node === undefined && defaultNodeName !== undefined)
    service.node = { name: defaultNodeName };
  const agent = agentDoc(obj(serviceFrom, 'agent'));
  const labelsFrom = obj(metadata, 'labels');
  return {
    service,
    agent,
    user: userDoc(obj(metadata, 'user')),
    cloud: cloudDoc(obj(metadata, 'cloud')),
    labels: mergeLabels(noLabels, labelsFrom),
    shared,
    defaultNodeName,
    agentName: typeof agent?.name === 'string' ? agent.name : '',
  };
}
