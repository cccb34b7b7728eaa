/**
 * Preloaded into the measured bridge process (`node --expose-gc --import tsx --import
 * ./bench/child-probe.ts bin/handoff.js serve`). It changes nothing in the bridge: on a
 * `memory` message over the IPC channel it collects garbage and answers with
 * process.memoryUsage().
 */
type GcFn = () => void;

if (process.send) {
  process.on('message', (message: unknown) => {
    if (message !== 'memory') return;
    const gc = (globalThis as { gc?: GcFn }).gc;
    if (gc) {
      gc();
      gc();
    }
    process.send!({ kind: 'memory', gc: gc !== undefined, ...process.memoryUsage() });
  });
}
