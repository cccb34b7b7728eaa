import { cpus, loadavg, totalmem, type } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BurstResult } from './burst-throughput.js';
import type { DiscoveryResult } from './discovery.js';
import type { MemoryResult } from './waiting-memory.js';
import type { LatencyResult } from './resume-latency.js';
import { round } from './stats.js';

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

export interface Check {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: no target, reported only. */
  readonly pass: boolean | undefined;
}

/** Redis bytes per waiting handoff must stay under this. */
export const bytesTarget = 3 * 1024;
/**
 * "Flat": the second half of the waiting handoffs adds less than this fraction to VmRSS (the
 * first load after start raises the allocator's high-water mark once, whatever its size)...
 */
export const rssFlatFraction = 0.05;
/** ...and the JS heap after GC grows by less than this per handoff of the second half, bytes
 * (holding a handoff in memory would cost more than its ~1.5 KB Redis hash). */
export const heapPerHandoffLimit = 1024;

const mb = (bytes: number) => `${round(bytes / 2 ** 20, 1)} MB`;

export function checks(latency?: LatencyResult, burst?: BurstResult, memory?: MemoryResult, discovery?: DiscoveryResult): Check[] {
  const out: Check[] = [];
  if (latency) {
    const { ms } = latency;
    out.push({ figure: `reply → agent resumed, p50 (n=${ms.count})`, measured: `${ms.p50} ms`, target: '', pass: undefined });
    out.push({ figure: 'reply → agent resumed, p95', measured: `${ms.p95} ms`, target: '', pass: undefined });
    out.push({ figure: 'reply → agent resumed, p99', measured: `${ms.p99} ms`, target: '< 100 ms', pass: ms.p99 < 100 });
    out.push({ figure: 'reply → agent resumed, max', measured: `${ms.max} ms`, target: '', pass: undefined });
  }
  if (burst) {
    out.push({
      figure: `completions/s, ${burst.concurrent} concurrent (${burst.rounds.length} rounds)`,
      measured: `${round(burst.perSecond)} /s (worst round ${round(burst.worstRoundPerSecond)})`,
      target: 'none set',
      pass: undefined,
    });
    out.push({ figure: `  reply → resumed under that load, p50 / p99`, measured: `${burst.latencyMs.p50} / ${burst.latencyMs.p99} ms`, target: '', pass: undefined });
  }
  if (memory) {
    const r = memory.redis;
    out.push({ figure: `Redis bytes per waiting handoff (MEMORY USAGE, n=${memory.waiting})`, measured: `${Math.round(r.bytesPerHandoff)} B`, target: `< ${bytesTarget} B`, pass: r.bytesPerHandoff < bytesTarget });
    out.push({ figure: '  same, INFO used_memory delta', measured: `${Math.round(r.usedMemoryPerHandoff)} B`, target: `< ${bytesTarget} B`, pass: r.usedMemoryPerHandoff < bytesTarget });
    out.push({ figure: '  same, without local-thread message lists', measured: `${Math.round(r.bytesPerHandoffWithoutLocalThreads)} B`, target: '', pass: undefined });
    out.push({
      figure: `  time to park ${memory.waiting} handoffs via POST /v1/handoffs`,
      measured: `${round(memory.createMs / 1000)} s (${Math.round((memory.waiting * 1000) / memory.createMs)} /s)`,
      target: '',
      pass: undefined,
    });
    const { idle, halfway, loaded } = memory.bridge;
    const half = Math.floor(memory.waiting / 2);
    const secondHalf = loaded.vmRss - halfway.vmRss;
    const heapPerHandoff = (loaded.heapUsed - halfway.heapUsed) / (memory.waiting - half);
    const rssFlat = secondHalf < halfway.vmRss * rssFlatFraction;
    const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;
    out.push({ figure: 'bridge VmRSS, 0 waiting (after warm-up)', measured: mb(idle.vmRss), target: '', pass: undefined });
    out.push({ figure: `bridge VmRSS, ${half} waiting`, measured: `${mb(halfway.vmRss)} (${signed(halfway.vmRss - idle.vmRss)})`, target: '', pass: undefined });
    out.push({
      figure: `bridge VmRSS, ${memory.waiting} waiting`,
      measured: `${mb(loaded.vmRss)} (${signed(secondHalf)} for the 2nd half)`,
      target: `flat: 2nd half < +${rssFlatFraction * 100}%`,
      pass: rssFlat,
    });
    out.push({
      figure: `  JS heap after GC, 0 → ${half} → ${memory.waiting} waiting`,
      measured: `${mb(idle.heapUsed)} → ${mb(halfway.heapUsed)} → ${mb(loaded.heapUsed)} (${Math.round(heapPerHandoff)} B/handoff in the 2nd half)`,
      target: `2nd half < ${heapPerHandoffLimit} B/handoff`,
      pass: heapPerHandoff < heapPerHandoffLimit,
    });
  }
  if (discovery) {
    const { coldMs, cachedMs } = discovery;
    out.push({ figure: `protocol discovery, cold, p50 / p95 (n=${discovery.n})`, measured: `${round(coldMs.p50)} / ${round(coldMs.p95)} ms`, target: '', pass: undefined });
    out.push({ figure: '  HTTP requests per cold discovery', measured: String(round(discovery.requestsPerCold)), target: '', pass: undefined });
    out.push({ figure: '  cached in Redis, p50 / p95', measured: `${round(cachedMs.p50, 2)} / ${round(cachedMs.p95, 2)} ms`, target: '', pass: undefined });
  }
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function render(machine: MachineFacts, list: readonly Check[], memory: MemoryResult | undefined, durationMs: number): string {
  const load = `load average ${machine.loadAverage.start} at start, ${machine.loadAverage.end ?? '?'} at end`;
  const facts = `Machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Redis ${machine.redis}; ${load}`;
  const results = table([
    ['Figure', 'Measured', 'Target', 'Result'],
    ...list.map((c) => [c.figure, c.measured, c.target, c.pass === undefined ? '' : c.pass ? 'PASS' : 'FAIL']),
  ]);
  const parts = [facts, '', results];
  if (memory) {
    const kinds = Object.entries(memory.redis.byKind).sort((a, b) => b[1].bytesPerHandoff - a[1].bytesPerHandoff);
    parts.push(
      '',
      `Redis bytes per waiting handoff, by key (MEMORY USAGE delta / ${memory.waiting}):`,
      table([['Key', 'Keys/handoff', 'Bytes/handoff'], ...kinds.map(([kind, v]) => [kind, String(round(v.keysPerHandoff, 3)), String(Math.round(v.bytesPerHandoff))])]),
    );
    if (memory.redis.foreignKeysChanged > 0) {
      parts.push(`note: other clients changed ${memory.redis.foreignKeysChanged} keys meanwhile; the used_memory figure includes their writes.`);
    }
  }
  parts.push('', `Bench took ${round(durationMs / 1000)} s.`);
  return parts.join('\n');
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
