import v8 from 'node:v8';

/**
 * The old generation may grow by half its live size between two major collections (V8 reads the factor at each
 * one, so setting it at start applies). At its default V8 lets it grow up to 4x when collections are rare: the
 * forwarder lives on about 30 MB, but its documents wait for their bulk's answer long enough to be promoted, and
 * that garbage piled up to 120 MB before each collection (end-to-end bench: peak RSS 221-231 MiB, 154 with
 * this). More frequent major collections of a small live heap cost little. `forwarder` and `start` (which runs a
 * forwarder in its process) call it first.
 */
export function limitHeapGrowth(): void {
  // A factor given on the command line (node --heap-growing-percent=N) wins.
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return;
  v8.setFlagsFromString('--heap-growing-percent=50');
}
