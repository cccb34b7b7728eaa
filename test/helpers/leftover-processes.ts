import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Finds the redis-server and Chromium processes this run (and no other run on the machine) left
 * behind. Linux only (/proc). A process counts as the run's when it is in the run's process group
 * (every child spawned without `detached`, orphans included: a redis-server rewrites its own
 * environment for its process title, so only this identifies it) or carries the run marker in its
 * environment (set by the global setup, passed on by `spawnLogged`; Playwright starts Chromium in
 * a process group of its own).
 */
export const runMarker = {
  name: 'HANDOFF_TEST_RUN',
  get value(): string | undefined {
    return process.env.HANDOFF_TEST_RUN;
  },
};

export interface LeftProcess {
  readonly pid: number;
  readonly command: string;
}

/** Process names the check looks for: redis-server, and Chromium under its names. */
const watched = /^(redis-server|chromium|chrome|headless_shell)/;

/** State and process group from /proc/<pid>/stat (fields 3 and 5). */
async function stat(pid: number | 'self'): Promise<{ state: string; pgid: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, pgid: Number(fields[2]) };
}

/** Watched processes already running when the suite started (not the suite's). */
let before = new Set<number>();

export async function recordRunningBefore(): Promise<void> {
  before = new Set((await watchedProcesses()).map((p) => p.pid));
}

async function watchedProcesses(): Promise<{ pid: number; comm: string }[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: { pid: number; comm: string }[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (watched.test(comm.trim())) found.push({ pid, comm: comm.trim() });
  }
  return found;
}

async function scan(marker: string): Promise<LeftProcess[]> {
  const ownGroup = (await stat('self').catch(() => undefined))?.pgid;
  const found: LeftProcess[] = [];
  for (const { pid, comm } of await watchedProcesses()) {
    if (before.has(pid)) continue;
    try {
      const { state, pgid } = await stat(pid);
      if (state === 'Z') continue; // exited, not yet reaped
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      if (pgid !== ownGroup && !environ.includes(`${runMarker.name}=${marker}`)) continue;
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      found.push({ pid, command: cmdline.slice(0, 160) || comm });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * The redis-server and Chromium processes of this run still alive once the test files are done.
 * A process on its way out (Chromium closing its helpers) gets a few seconds to finish.
 */
export async function leftBehind(marker = runMarker.value, graceMs = 5_000): Promise<LeftProcess[]> {
  if (!marker) return [];
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = await scan(marker);
    if (found.length === 0 || Date.now() >= deadline) return found;
    await sleep(100);
  }
}

export async function stopLeftBehind(processes: readonly LeftProcess[]): Promise<void> {
  for (const { pid } of processes) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
