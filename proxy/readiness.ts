import type { Readiness } from '../core/admin-server';
import type { QueueCondition } from './backpressure';
import type { PartitionView } from './partition-admission';

/**
 * The proxy can do its job: not draining, Redis reachable and giving the configured durability. A full queue is
 * still "ready" (it refuses fast and recovers by itself; pulling every proxy out of a load balancer would turn
 * 503s the agents back off from into connection errors), but the body says it is shedding, and why.
 */
export function proxyReadiness(
  server: { readonly accepting: boolean },
  queue: { current(): QueueCondition; views(): PartitionView[] },
  settings: { readonly durability: string; readonly replicas: number },
): Readiness {
  const condition = queue.current();
  const reasons = [
    ...(server.accepting ? [] : ['shutting down']),
    ...(condition.state === 'unavailable' ? [`Redis unavailable: ${condition.reason}`] : []),
    ...(condition.state === 'unsafe' ? [`Redis below queue.durability: ${condition.reason}`] : []),
  ];
  const durability =
    settings.durability === 'replicated' ? `replicated (${settings.replicas} replicas)` : settings.durability;
  const shedding = condition.state === 'open' ? {} : { shedding: condition.reason };
  // With queue.partitions > 1: each partition's state, so an operator sees which master refuses and why.
  const views = queue.views();
  const partitions = views.length > 1 ? { partitions: views } : {};
  return {
    ready: reasons.length === 0,
    reasons,
    details: { durability, queue: condition.state, ...shedding, ...partitions },
  };
}
