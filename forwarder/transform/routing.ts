/**
 * Data stream routing by APM Server's rules (apm-data modelprocessor.SetDataStream):
 * traces-apm[.rum]-<ns>, logs-apm.error-<ns>, logs-apm.app.<service>-<ns>, metrics-apm.internal-<ns>,
 * metrics-apm.app.<service>-<ns>.
 */

export interface DataStream {
  readonly type: 'traces' | 'logs' | 'metrics';
  readonly dataset: string;
  readonly namespace: string;
}

const rumAgents = new Set(['rum-js', 'js-base', 'iOS/swift']);

function isRumAgent(agentName: string): boolean {
  return rumAgents.has(agentName);
}

/** Lower-cases and replaces what Elasticsearch forbids in data stream names (and '-', the part separator) by '_'. */
export function normalizeServiceName(name: string): string {
  return name.toLowerCase().replace(/[\\/*?"<>| ,#:-]/g, '_');
}

export function tracesStream(agentName: string, namespace: string): DataStream {
  return { type: 'traces', dataset: isRumAgent(agentName) ? 'apm.rum' : 'apm', namespace };
}

export function errorsStream(namespace: string): DataStream {
  return { type: 'logs', dataset: 'apm.error', namespace };
}

export function appLogsStream(serviceName: string, namespace: string): DataStream {
  return {
    type: 'logs',
    dataset: `apm.app.${normalizeServiceName(serviceName === '' ? 'unknown' : serviceName)}`,
    namespace,
  };
}

export function metricsStream(internal: boolean, serviceName: string, namespace: string): DataStream {
  if (internal || serviceName === '') return { type: 'metrics', dataset: 'apm.internal', namespace };
  return { type: 'metrics', dataset: `apm.app.${normalizeServiceName(serviceName)}`, namespace };
}

export function dataStreamName(ds: DataStream): string {
  return `${ds.type}-${ds.dataset}-${ds.namespace}`;
}

/** Metric names APM Server stores in the strictly mapped internal data stream (apm-data IsInternalMetricName). */
export const internalMetricNames: ReadonlySet<string> = new Set([
  'agent.background.cpu.overhead.pct',
  'agent.background.cpu.total.pct',
  'agent.background.memory.allocation.bytes',
  'agent.events.dropped',
  'agent.events.queue.max_size.pct',
  'agent.events.queue.min_size.pct',
  'agent.events.requests.bytes',
  'agent.events.requests.count',
  'agent.events.total',
  'clr.gc.count',
  'clr.gc.gen0size',
  'clr.gc.gen1size',
  'clr.gc.gen2size',
  'clr.gc.gen3size',
  'clr.gc.time',
  'faas.billed_duration',
  'faas.coldstart_duration',
  'faas.duration',
  'faas.timeout',
  'golang.goroutines',
  'golang.heap.allocations.active',
  'golang.heap.allocations.allocated',
  'golang.heap.allocations.frees',
  'golang.heap.allocations.idle',
  'golang.heap.allocations.mallocs',
  'golang.heap.allocations.objects',
  'golang.heap.allocations.total',
  'golang.heap.gc.cpu_fraction',
  'golang.heap.gc.next_gc_limit',
  'golang.heap.gc.total_count',
  'golang.heap.gc.total_pause.ns',
  'golang.heap.system.obtained',
  'golang.heap.system.released',
  'golang.heap.system.stack',
  'golang.heap.system.total',
  'jvm.gc.alloc',
  'jvm.gc.count',
  'jvm.gc.time',
  'jvm.memory.heap.committed',
  'jvm.memory.heap.max',
  'jvm.memory.heap.pool.committed',
  'jvm.memory.heap.pool.max',
  'jvm.memory.heap.pool.used',
  'jvm.memory.heap.used',
  'jvm.memory.non_heap.committed',
  'jvm.memory.non_heap.max',
  'jvm.memory.non_heap.used',
  'jvm.thread.count',
  'jvm.memory.non_heap.pool.used',
  'jvm.memory.non_heap.pool.committed',
  'jvm.memory.non_heap.pool.max',
  'jvm.fd.used',
  'jvm.fd.max',
  'nodejs.eventloop.delay.avg.ms',
  'nodejs.handles.active',
  'nodejs.memory.arrayBuffers.bytes',
  'nodejs.memory.external.bytes',
  'nodejs.memory.heap.allocated.bytes',
  'nodejs.memory.heap.used.bytes',
  'nodejs.requests.active',
  'ruby.gc.count',
  'ruby.gc.time',
  'ruby.heap.allocations.total',
  'ruby.heap.slots.free',
  'ruby.heap.slots.live',
  'ruby.threads',
  'system.cpu.total.norm.pct',
  'system.memory.actual.free',
  'system.memory.total',
  'system.process.cgroup.cpu.cfs.period.us',
  'system.process.cgroup.cpu.cfs.quota.us',
  'system.process.cgroup.cpu.stats.periods',
  'system.process.cgroup.cpu.stats.throttled.ns',
  'system.process.cgroup.cpu.stats.throttled.periods',
  'system.process.cgroup.cpuacct.total.ns',
  'system.process.cgroup.memory.mem.limit.bytes',
  'system.process.cgroup.memory.mem.usage.bytes',
  'system.process.cgroup.memory.stats.inactive_file.bytes',
  'system.process.cpu.system.norm.pct',
  'system.process.cpu.total.norm.pct',
  'system.process.cpu.user.norm.pct',
  'system.process.memory.rss.bytes',
  'system.process.memory.size',
]);
