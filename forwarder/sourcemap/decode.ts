import zlib from 'node:zlib';

import { TraceMap } from '@jridgewell/trace-mapping';

/** Largest inflated source map accepted (a bound on what one document of .apm-source-map can cost us). */
const maxSourceMapBytes = 64 * 1024 * 1024;

/** A `.apm-source-map` document's content as Kibana stores it: base64(zlib(source map JSON)). */
export function decodeSourceMapContent(content: string): TraceMap {
  const json = zlib
    .inflateSync(Buffer.from(content, 'base64'), { maxOutputLength: maxSourceMapBytes })
    .toString('utf8');
  return new TraceMap(json);
}

/** The other way round, for tests and tools that upload a map as Kibana does. */
export function encodeSourceMapContent(map: object): string {
  return zlib.deflateSync(Buffer.from(JSON.stringify(map), 'utf8')).toString('base64');
}

/** The document id Kibana gives an uploaded map, which is how APM Server looks it up. */
export function sourceMapDocumentId(serviceName: string, serviceVersion: string, bundlePath: string): string {
  return `${serviceName}-${serviceVersion}-${bundlePath}`;
}
