import { prepare, reply, type Players } from './human.js';
import { summarise, type Summary } from './stats.js';

/**
 * Figure 2: `concurrent` handoffs waiting at once, every reply sent at the same moment; the
 * time from sending the first reply until the last agent job resumed gives completions/s.
 */
export interface BurstRound {
  readonly completions: number;
  readonly wallMs: number;
  readonly perSecond: number;
}

export interface BurstResult {
  readonly concurrent: number;
  readonly rounds: BurstRound[];
  /** Completions/s over all rounds (total completions / total wall time). */
  readonly perSecond: number;
  readonly worstRoundPerSecond: number;
  /** Per-handoff 201 → resumed, under this load. */
  readonly latencyMs: Summary;
}

export async function measureBurst(players: Players, concurrent: number, rounds: number): Promise<BurstResult> {
  const results: BurstRound[] = [];
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const ready = await prepare(players, concurrent, `burst${round}`);
    const startedAt = Date.now();
    const resumes = ready.map((h) => players.agent.resumed(h.tag));
    const accepted = await Promise.all(ready.map((h) => reply(players, h)));
    const resumed = await Promise.all(resumes);
    const wallMs = Math.max(...resumed) - startedAt;
    resumed.forEach((at, i) => latencies.push(at - accepted[i]!));
    results.push({ completions: ready.length, wallMs, perSecond: (ready.length * 1000) / wallMs });
  }
  const total = results.reduce((a, r) => a + r.completions, 0);
  const wall = results.reduce((a, r) => a + r.wallMs, 0);
  return {
    concurrent,
    rounds: results,
    perSecond: (total * 1000) / wall,
    worstRoundPerSecond: Math.min(...results.map((r) => r.perSecond)),
    latencyMs: summarise(latencies),
  };
}
