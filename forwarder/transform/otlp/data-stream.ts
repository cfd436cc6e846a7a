/**
 * The data_stream.dataset / data_stream.namespace attributes (resource, scope, span, event, data point, log
 * record): they re-route a document, sanitized as APM Server sanitizes them.
 */
export interface DataStreamOverride {
  dataset?: string;
  namespace?: string;
}

const datasetAttribute = 'data_stream.dataset';
const namespaceAttribute = 'data_stream.namespace';

const disallowed = /[\\/*?"<>| ,#:-]/g;

function sanitize(value: string, limit: number): string {
  return value.toLowerCase().replace(disallowed, '_').slice(0, limit);
}

/** Reads the two attributes into `into` (later levels override earlier ones); true if the key was one of them. */
export function readDataStreamAttribute(key: string, value: unknown, into: DataStreamOverride): boolean {
  if (key !== datasetAttribute && key !== namespaceAttribute) return false;
  if (typeof value !== 'string') return true;
  if (key === datasetAttribute) into.dataset = sanitize(value, 100);
  else into.namespace = sanitize(value, 100);
  return true;
}
