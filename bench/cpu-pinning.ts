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
