/**
 * Preloaded into a measured instance only (`node --expose-gc --import ./scripts/multi-instance/gc-on-signal.ts`):
 * SIGUSR2 runs a full garbage collection, so heap figures read from /metrics afterwards are live data,
 * not garbage the collector has not got round to yet.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => gc?.());
