/**
 * Preloaded into the measured bridge process (`node --expose-gc --import tsx --import
 * ./bench/child-probe.ts bin/handoff.js serve`). It changes nothing in the bridge: on a
 * `memory` message over the IPC channel it collects garbage and answers with
 * process.memoryUsage(). With BENCH_CPU_PROF_WINDOW set to a folder, `profile-start` and
 * `profile-stop` messages take a CPU profile of just that window (the processes part sends
 * them around each batch of replies) into `<folder>/<role>-<pid>-<n>.cpuprofile`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

type GcFn = () => void;

const profileDir = process.env.BENCH_CPU_PROF_WINDOW;
let session: Session | undefined;
let windows = 0;

const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
  );

async function profile(message: 'profile-start' | 'profile-stop'): Promise<void> {
  if (!profileDir) return;
  if (message === 'profile-start') {
    session ??= new Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
    return;
  }
  if (!session) return;
  const { profile: taken } = (await post('Profiler.stop')) as { profile: unknown };
  session.disconnect();
  const role = process.env.HANDOFF_ROLE ?? 'all';
  writeFileSync(join(profileDir, `${role}-${process.pid}-${windows++}.cpuprofile`), JSON.stringify(taken));
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
