import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Pins processes to CPUs with `taskset` (util-linux), every thread of each: how the processes
 * part runs the bridge on a core of its own while the load runs on the other, so a figure
 * for the bridge is not shared with the load generator's CPU (issue #16 item 4: "the load
 * generator apart"). Linux only; throws with what to install when taskset is missing.
 */
export function pin(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch (err) {
    throw new Error(
      `taskset could not pin pid ${pid} to CPU ${cpus} (${(err as Error).message}); it is in util-linux ` +
        '(Debian/Ubuntu: `sudo apt-get install util-linux`)',
      { cause: err },
    );
  }
}

/** Every CPU, as taskset lists them (`0-1` on two cores). */
export const allCpus = () => `0-${availableParallelism() - 1}`;

/** Where a pinned run puts the bridge and its Redis, and the load, the agent's Redis and the service. */
export interface PinLayout {
  readonly bridge: string;
  readonly load: string;
  /** How many CPUs the bridge has. */
  readonly bridgeCpus: number;
}

/**
 * On three CPUs or more the bridge gets two and the rest run on the others: issue #16 item 4
 * as written (2 cores for the bridge, the load apart). On two, the bridge gets one and the
 * load the other, and two cores are only a model (twice the figure).
 */
export function pinLayout(cpus: number = availableParallelism()): PinLayout {
  if (cpus >= 3) return { bridge: '0-1', load: cpus === 3 ? '2' : `2-${cpus - 1}`, bridgeCpus: 2 };
  return { bridge: '1', load: '0', bridgeCpus: 1 };
}
