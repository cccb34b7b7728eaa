import { prepare, reply, type Players, type ReadyHandoff } from './human.js';
import { summarise, type Summary } from './stats.js';

/**
 * Figure 1: from the bridge's 201 to the reply POST until the agent job is past
 * requireLogin(), one handoff at a time (nothing else in flight). Handoffs are prepared in
 * batches beforehand, each in its own local thread.
 */
export interface LatencyResult {
  readonly n: number;
  readonly warmup: number;
  readonly ms: Summary;
  readonly samples: number[];
}

/** Sends the human's reply; resolves with the moment the bridge acknowledged it. */
export type SendReply = (players: Players, ready: ReadyHandoff) => Promise<number>;

export async function measureResumeLatency(
  players: Players,
  n: number,
  warmup: number,
  batch = 100,
  send: SendReply = reply,
): Promise<LatencyResult> {
  const samples: number[] = [];
  let done = -warmup;
  while (done < n) {
    const size = Math.min(batch, n - done);
    const ready = await prepare(players, size, 'lat');
    for (const handoff of ready) {
      const acceptedAt = await send(players, handoff);
      const resumedAt = await players.agent.resumed(handoff.tag);
      if (done >= 0) samples.push(resumedAt - acceptedAt);
      done += 1;
    }
  }
  return { n, warmup, ms: summarise(samples), samples };
}
