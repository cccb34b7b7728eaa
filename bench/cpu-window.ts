/**
 * A CPU profile of one window of a bench process (the processes part takes one around each
 * batch of replies): `start()` then `stop()` writes `<dir>/<name>-<pid>-<n>.cpuprofile`.
 * Sampled every 0.5 ms. Used by the bridge's preload (child-probe.ts) and the load process.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export interface CpuWindow {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function cpuWindow(dir: string, name: string): CpuWindow {
  let session: Session | undefined;
  let windows = 0;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
    );
  return {
    async start() {
      session ??= new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
    },
    async stop() {
      if (!session) return;
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      writeFileSync(join(dir, `${name}-${process.pid}-${windows++}.cpuprofile`), JSON.stringify(profile));
    },
  };
}
