import { prepare, reply, type Players } from './human.js';
import { summarise, type Summary } from './stats.js';

/**
 * Handoff completed → agent job running again, with the agent on its own Redis: the path of
 * the feed. For each of `n` handoffs (after `warmup` untimed), prepared in batches and then
 * answered one at a time with nothing else in flight, from the handoff's `completedAt` (the
 * bridge's clock, set as it ends the handoff) to the moment the agent job is past
 * requireLogin() (same process, same clock). Split into hops:
 *   feed     completedAt → the resumer has read the ending (the long poll answered)
 *   promote  → the job's processor starts again (the wait looked up and the job promoted in the
 *              agent's Redis, then picked up by the agent's BullMQ worker)
 *   read     → past requireLogin() (the handle from the ending the resumer read: no request)
 */
export interface FeedResumeResult {
  readonly n: number;
  readonly warmup: number;
  readonly ms: Summary;
  readonly hops: { readonly feed: Summary; readonly promote: Summary; readonly read: Summary };
  readonly samples: number[];
}

export async function measureFeedResume(
  players: Players,
  n: number,
  warmup: number,
  batch = 100,
): Promise<FeedResumeResult> {
  const samples: number[] = [];
  const feed: number[] = [];
  const promote: number[] = [];
  const read: number[] = [];
  let done = -warmup;
  while (done < n) {
    const ready = await prepare(players, Math.min(batch, n - done), 'feed');
    for (const handoff of ready) {
      await reply(players, handoff);
      const resumedAt = await players.agent.resumed(handoff.tag);
      const { completedAt } = await players.client.getHandoff(handoff.handoffId);
      const { eventAt, runningAt } = players.agent.hops(handoff.tag);
      if (completedAt === null || eventAt === undefined || runningAt === undefined)
        throw new Error(`handoff ${handoff.handoffId}: a hop was not recorded`);
      if (done >= 0) {
        samples.push(resumedAt - completedAt);
        feed.push(eventAt - completedAt);
        promote.push(runningAt - eventAt);
        read.push(resumedAt - runningAt);
      }
      done += 1;
    }
  }
  return {
    n,
    warmup,
    ms: summarise(samples),
    hops: { feed: summarise(feed), promote: summarise(promote), read: summarise(read) },
    samples,
  };
}
