/**
 * Preloaded into the measured bridge process (`node --expose-gc --import tsx --import
 * ./bench/child-probe.ts bin/handoff.js serve`). It changes nothing in the bridge: on a
 * `memory` message over the IPC channel it collects garbage and answers with
 * process.memoryUsage(). With BENCH_CPU_PROF_WINDOW set to a folder, `profile-start` and
 * `profile-stop` messages take a CPU profile of just that window (the processes part sends
 * them around each batch of replies) into `<folder>/<role>-<pid>-<n>.cpuprofile`.
 */
import { cpuWindow } from './cpu-window.js';

type GcFn = () => void;

const profileDir = process.env.BENCH_CPU_PROF_WINDOW;
const cpu = profileDir ? cpuWindow(profileDir, process.env.HANDOFF_ROLE ?? 'all') : undefined;

async function profile(message: 'profile-start' | 'profile-stop'): Promise<void> {
  if (!cpu) return;
  await (message === 'profile-start' ? cpu.start() : cpu.stop());
}

if (process.send) {
  process.on('message', (message: unknown) => {
    if (message === 'profile-start' || message === 'profile-stop') {
      void profile(message).catch((err: Error) => process.stderr.write(`probe: ${err.message}\n`));
      return;
    }
    if (message !== 'memory') return;
    const gc = (globalThis as { gc?: GcFn }).gc;
    if (gc) {
      gc();
      gc();
    }
    process.send!({ kind: 'memory', gc: gc !== undefined, ...process.memoryUsage() });
  });
}
