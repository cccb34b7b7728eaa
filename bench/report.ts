import { cpus, totalmem, type } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BurstResult } from './burst-throughput.js';
import type { IdlePollingResult } from './github-polling.js';
import type { WebhookResult } from './github-webhooks.js';
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
}

export function machineFacts(redisVersion: string): MachineFacts {
  return {
    node: process.version,
    os: `${type()} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    redis: redisVersion,
  };
}

export interface Check {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: no target, reported only. */
  readonly pass: boolean | undefined;
}

/** Rate-limited GitHub calls per hour that idle polling may spend (100 handoffs, 10 repos). */
export const idlePollingCallsTarget = 100;

/** Redis bytes per waiting handoff must stay under this. */
export const bytesTarget = 3 * 1024;
/** "Flat": VmRSS with N waiting within this fraction of idle VmRSS... */
export const rssFlatFraction = 0.1;
/** ...and the JS heap after GC growing by less than this per waiting handoff, bytes. */
export const heapPerHandoffLimit = 256;

const mb = (bytes: number) => `${round(bytes / 2 ** 20, 1)} MB`;

export function checks(latency?: LatencyResult, burst?: BurstResult, memory?: MemoryResult, github?: { webhooks: WebhookResult; polling: IdlePollingResult }): Check[] {
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
    const { idle, loaded } = memory.bridge;
    const rssGrowth = loaded.vmRss - idle.vmRss;
    const heapGrowth = loaded.heapUsed - idle.heapUsed;
    const flat = rssGrowth < idle.vmRss * rssFlatFraction && heapGrowth / memory.waiting < heapPerHandoffLimit;
    out.push({ figure: 'bridge VmRSS, 0 waiting', measured: mb(idle.vmRss), target: '', pass: undefined });
    out.push({ figure: `bridge VmRSS, ${memory.waiting} waiting`, measured: `${mb(loaded.vmRss)} (${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)})`, target: `flat`, pass: flat });
    out.push({ figure: '  JS heap after GC, 0 → N waiting', measured: `${mb(idle.heapUsed)} → ${mb(loaded.heapUsed)} (${round(heapGrowth / memory.waiting)} B/handoff)`, target: `< ${heapPerHandoffLimit} B/handoff`, pass: undefined });
  }
  if (github) {
    const { webhooks: w, polling: p } = github;
    out.push({ figure: `GitHub webhook deliveries/s (verify, dedupe, enqueue; n=${w.deliveries}, ${w.concurrency} at once)`, measured: `${round(w.perSecond)} /s`, target: 'none set', pass: undefined });
    out.push({ figure: '  delivery → 202, p50 / p99', measured: `${w.latencyMs.p50} / ${w.latencyMs.p99} ms`, target: '', pass: undefined });
    out.push({
      figure: `GitHub idle polling, rate-limited calls/hour (${p.handoffs} handoffs, ${p.repos} repos, every ${round(p.intervalMs / 1000)} s)`,
      measured: `${p.countedFirstHour} in the first hour, then ${p.countedPerHourSteady}/h`,
      target: `< ${idlePollingCallsTarget}`,
      pass: p.countedFirstHour < idlePollingCallsTarget,
    });
    out.push({ figure: '  conditional 304s/hour (free)', measured: `${p.notModifiedPerHour}`, target: '', pass: undefined });
    out.push({ figure: '  per round: counted 200s / free 304s', measured: p.perRound.map((r) => `${r.counted}/${r.notModified}`).join(', '), target: '', pass: undefined });
  }
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function render(machine: MachineFacts, list: readonly Check[], memory: MemoryResult | undefined, durationMs: number): string {
  const facts = `Machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Redis ${machine.redis}`;
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
