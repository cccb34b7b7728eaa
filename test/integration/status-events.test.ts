import { afterAll, describe, expect, it } from 'vitest';
import { createStatusEvents } from '../../src/http/status-events.js';
import { connectTestRedis, randomPrefix } from '../helpers/redis.js';

/** The armed waiters behind every long poll (real Redis pub/sub). */
describe('status events: armed waiters', () => {
  const publisher = connectTestRedis();
  const channel = `${randomPrefix('events')}:events`;
  afterAll(() => publisher.disconnect());

  it("remembers a change published after arming and before next(), and routes endings to the agent's feed", async () => {
    const events = await createStatusEvents(connectTestRedis(), channel);
    try {
      const handoff = events.armHandoff('hf_1');
      const feed = events.armFeed('agent one');
      const other = events.armFeed('agent');
      await publisher.publish(channel, 'hf_1 completed agent one');
      await new Promise((r) => setTimeout(r, 100)); // dispatched before anyone waits
      expect(await handoff.next(1_000)).toBe(true);
      expect(await feed.next(1_000)).toBe(true);
      // Consumed: the next wait is for the next change. "agent" is not "agent one".
      expect(await handoff.next(50)).toBe(false);
      expect(await other.next(50)).toBe(false);
      // A status change that is not an ending wakes the handoff's waiters only.
      await publisher.publish(channel, 'hf_1 claiming');
      expect(await handoff.next(1_000)).toBe(true);
      expect(await feed.next(50)).toBe(false);
      for (const w of [handoff, feed, other]) w.close();
    } finally {
      await events.close();
    }
  });

  it('a reconnect of the subscription wakes every waiter (what was published meanwhile is lost)', async () => {
    const subscriber = connectTestRedis();
    const events = await createStatusEvents(subscriber, channel);
    try {
      const waiter = events.armHandoff('hf_2');
      const woken = waiter.next(10_000);
      subscriber.disconnect(true);
      expect(await woken).toBe(true);
      waiter.close();
    } finally {
      await events.close();
    }
  });

  it('close() and an abort end a wait as "no change", at once', async () => {
    const events = await createStatusEvents(connectTestRedis(), channel);
    try {
      const waiter = events.armHandoff('hf_3');
      const closing = waiter.next(10_000);
      waiter.close();
      expect(await closing).toBe(false);
      const abort = new AbortController();
      const aborted = events.armHandoff('hf_3').next(10_000, abort.signal);
      abort.abort();
      expect(await aborted).toBe(false);
    } finally {
      await events.close();
    }
  });
});
