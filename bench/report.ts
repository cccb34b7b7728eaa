import { cpus, loadavg, totalmem, type } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Check } from './bench-part.js';
import { round } from './stats.js';
import { table } from './table.js';

/** Machine facts, the figures against their targets as a table, and the JSON file. */
export interface MachineFacts {
  readonly node: string;
  readonly os: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly redis: string;
  /** 1-minute load average when the bench started and ended: other work on the machine. */
  readonly loadAverage: { start: number; end?: number };
}

export function machineFacts(redisVersion: string): MachineFacts {
  return {
    node: process.version,
    os: `${type()} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    redis: redisVersion,
    loadAverage: { start: round(loadavg()[0]!, 2) },
  };
}

/** Records the load average at the end (call once the measurements are done). */
export function finishFacts(machine: MachineFacts): MachineFacts {
  return { ...machine, loadAverage: { ...machine.loadAverage, end: round(loadavg()[0]!, 2) } };
}

export function render(
  machine: MachineFacts,
  checks: readonly Check[],
  details: readonly string[],
  durationMs: number,
): string {
  const load = `load average ${machine.loadAverage.start} at start, ${machine.loadAverage.end ?? '?'} at end`;
  const facts = `Machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Redis ${machine.redis}; ${load}`;
  const results = table([
    ['Figure', 'Measured', 'Target', 'Result'],
    ...checks.map((c) => [c.figure, c.measured, c.target, c.pass === undefined ? '' : c.pass ? 'PASS' : 'FAIL']),
  ]);
  return [facts, '', results, ...details.flatMap((d) => ['', d]), '', `Bench took ${round(durationMs / 1000)} s.`].join(
    '\n',
  );
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
