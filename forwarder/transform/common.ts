import { FragmentCache } from './fragments';
import { type JsonObject, nonEmptyObj, num, obj, str } from './json';
import { type Labels, mergeLabels, putLabels } from './labels';
import { agentDoc, type JobMetadata, serviceDoc, userDoc } from './metadata';

/** Everything a per-event mapper needs: the job's metadata and the fields every document carries. */
export interface JobState {
  readonly meta: JobMetadata;
  /** host, process, container, kubernetes, network, observer, apm_sidecar: the same objects on every document. */
  readonly shared: JsonObject;
  /** `shared` as parallel key/value lists, read once per job (see newDraft). */
  readonly sharedKeys: readonly string[];
  readonly sharedValues: readonly unknown[];
  readonly receivedAtUs: number;
  readonly namespace: string;
  /** The JSON of the objects above (and of the processor and data_stream objects), written once per job. */
  readonly fragments: FragmentCache;
}

/** A document under construction; `labels` is merged last so event tags can override metadata labels. */
export interface DocDraft {
  readonly doc: JsonObject;
  labels: Labels;
}

/** processor.* of each event kind: one frozen object each, shared by every document (and its JSON cached). */
const processorDocs: Readonly<Record<string, JsonObject>> = Object.fromEntries(
  ['transaction', 'span', 'error', 'metric', 'log'].map((event) => [event, Object.freeze({ event })]),
);

/**
 * JobState for a job's metadata-derived fields; `shared` is also kept as key/value lists for newDraft. The objects
 * every document of the job holds by reference get their JSON written once here: mappers never mutate them (an
 * override builds a new object), so the serializer splices the text in.
 */
export function jobState(meta: JobMetadata, shared: JsonObject, receivedAtUs: number, namespace: string): JobState {
  const sharedKeys = Object.keys(shared);
  const fragments = new FragmentCache();
  const sharedValues = sharedKeys.map((key) => fragments.add(shared[key]));
  for (const value of [meta.service, meta.agent, meta.user, meta.cloud, meta.labels.labels, meta.labels.numeric])
    fragments.add(value);
  for (const event in processorDocs) fragments.add(processorDocs[event]);
  return { meta, shared, sharedKeys, sharedValues, receivedAtUs, namespace, fragments };
}

export function newDraft(state: JobState, processorEvent: string): DocDraft {
  // A plain loop over precomputed keys, not `{ ...state.shared }`: object spread per document cost ~1 µs here.
  const doc: JsonObject = {};
  const { sharedKeys, sharedValues } = state;
  for (let i = 0; i < sharedKeys.length; i++) doc[sharedKeys[i] ?? ''] = sharedValues[i];
  doc.processor = processorDocs[processorEvent] ?? { event: processorEvent };
  const { meta } = state;
  if (meta.service !== undefined) doc.service = meta.service;
  if (meta.agent !== undefined) doc.agent = meta.agent;
  if (meta.user !== undefined) doc.user = meta.user;
  if (meta.cloud !== undefined) doc.cloud = meta.cloud;
  return { doc, labels: meta.labels };
}

/** Microseconds since the epoch: the event's own timestamp, else when the proxy received the request. */
export function timestampUs(event: JsonObject, state: JobState): number {
  const ts = num(event, 'timestamp');
  return ts !== undefined && ts > 0 ? Math.trunc(ts) : state.receivedAtUs;
}

// Events of one job mostly share their second: format the date part once per second, not once per event.
let cachedSecond = Number.NaN;
let cachedPrefix = '';
/** "000Z" .. "999Z": the millisecond suffix of an ISO timestamp without a padStart and a template per event. */
const millisSuffix = (ms: number): string => `${String(ms).padStart(3, '0')}Z`;
const millisSuffixes: readonly string[] = Array.from({ length: 1000 }, (_, ms) => millisSuffix(ms));

function isoMillis(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    if (iso.length !== 24) return new Date(ms).toISOString(); // years outside 0000-9999 have another layout
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const millis = ms - second * 1000;
  return cachedPrefix + (millisSuffixes[millis] ?? millisSuffix(millis));
}

export function putTimestamp(doc: JsonObject, us: number, withMicros: boolean): void {
  doc['@timestamp'] = isoMillis(Math.floor(us / 1000));
  if (withMicros) doc.timestamp = { us };
}

/**
 * An event's context.service overrides the metadata's service (APM Server's mapToServiceModel): fields it names
 * replace the metadata's, a new name also replaces the version. context.service.agent overrides agent fields.
 */
export function applyServiceContext(draft: DocDraft, state: JobState, context: JsonObject | undefined): void {
  const from = nonEmptyObj(context, 'service');
  if (from === undefined) return;
  const override = serviceDoc(from);
  const base = state.meta.service ?? {};
  const service: JsonObject = { ...base };
  for (const key of ['environment', 'language', 'runtime', 'framework'] as const) {
    if (override[key] !== undefined)
      service[key] =
        key === 'environment' ? override[key] : { ...(obj(base, key) ?? {}), ...(obj(override, key) ?? {}) };
  }
  if (override.name !== undefined) {
    service.name = override.name;
    if (override.version === undefined) delete service.version;
    else service.version = override.version;
  }
  if (override.node !== undefined) service.node = override.node;
  const origin = obj(from, 'origin');
  if (origin !== undefined) {
    const o: JsonObject = {};
    for (const key of ['id', 'name', 'version']) if (str(origin, key) !== undefined) o[key] = str(origin, key);
    service.origin = o;
  }
  const target = obj(from, 'target');
  if (target !== undefined) service.target = targetDoc(str(target, 'type'), str(target, 'name'));
  if (service.node === undefined && state.meta.defaultNodeName !== undefined)
    service.node = { name: state.meta.defaultNodeName };
  draft.doc.service = service;
  const agentOverride = agentDoc(obj(from, 'agent'));
  if (agentOverride !== undefined) {
    const agent: JsonObject = { ...(state.meta.agent ?? {}) };
    for (const key of ['name', 'version', 'ephemeral_id'] as const)
      if (agentOverride[key] !== undefined) agent[key] = agentOverride[key];
    draft.doc.agent = agent;
  }
}

/** service.target: APM Server always writes the type (possibly empty) and omits an empty name. */
export function targetDoc(type: string | undefined, name: string | undefined): JsonObject {
  const out: JsonObject = { type: type ?? '' };
  if (name !== undefined) out.name = name;
  return out;
}

/** context.user replaces the metadata user entirely when any of its fields is set (never mixes two users). */
export function applyUserContext(draft: DocDraft, context: JsonObject | undefined): void {
  const user = userDoc(obj(context, 'user'));
  if (user !== undefined) draft.doc.user = user;
}

export function applyTags(draft: DocDraft, tags: JsonObject | undefined): void {
  draft.labels = mergeLabels(draft.labels, tags);
}

export function finishDraft(draft: DocDraft): JsonObject {
  putLabels(draft.doc, draft.labels);
  return draft.doc;
}

export function serviceName(doc: JsonObject): string {
  const name = obj(doc, 'service')?.name;
  return typeof name === 'string' ? name : '';
}

export function agentName(doc: JsonObject): string {
  const name = obj(doc, 'agent')?.name;
  return typeof name === 'string' ? name : '';
}
