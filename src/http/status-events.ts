import type { Redis } from '../store/redis.js';
import { endConnection } from '../store/redis.js';

/**
 * Long-poll support: one subscription per process to the handoff status channel, and
 * in-memory waiters keyed by topic (one handoff, or one agent's feed).
 *
 * A wait never misses a change because it is *armed before it reads*: `armHandoff` (or
 * `armFeed`) registers the waiter at once, the caller then reads the record or the feed, and
 * `next()` resolves for any change published since arming — also one that landed between the
 * read and the call to `next()`, which the waiter remembers. (Reading first and registering
 * after loses a change published in between, and the request sits out its whole wait.)
 * Waiters still always have a timeout, and a reconnect of the subscription wakes them all,
 * since messages published while it was down are gone.
 */
export interface Waiter {
  /**
   * Resolves true at the first change since arming (or since the previous `next()` that
   * resolved true), at once if one already came; false after `timeoutMs` or when `signal` aborts.
   */
  next(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Stops listening; call it when done (in a `finally`). */
  close(): void;
}

export interface StatusEvents {
  /** Starts listening for status changes of one handoff. Arm, then read, then wait. */
  armHandoff(handoffId: string): Waiter;
  /** Starts listening for new entries in one agent's feed of endings. Arm, then read, then wait. */
  armFeed(agentId: string): Waiter;
  /** One wait for a change of `handoffId`, armed now: for callers that do not read first. */
  waitForChange(handoffId: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const handoffTopic = (id: string) => `h ${id}`;
const feedTopic = (agentId: string) => `a ${agentId}`;

interface Armed {
  pending: boolean;
  /** Settles the `next()` in progress, if any. */
  wake: ((changed: boolean) => void) | undefined;
}

/** Parses `<id> <status>` or `<id> <status> <agent id>` (the agent id may contain spaces). */
function topicsOf(message: string): string[] {
  const first = message.indexOf(' ');
  if (first < 0) return [handoffTopic(message)];
  const second = message.indexOf(' ', first + 1);
  const topics = [handoffTopic(message.slice(0, first))];
  if (second > 0) topics.push(feedTopic(message.slice(second + 1)));
  return topics;
}

export async function createStatusEvents(subscriber: Redis, channel: string): Promise<StatusEvents> {
  const topics = new Map<string, Set<Armed>>();
  const fire = (armed: Armed) => {
    armed.pending = true;
    armed.wake?.(true);
  };
  subscriber.on('message', (_channel: string, message: string) => {
    for (const topic of topicsOf(message)) {
      const set = topics.get(topic);
      if (set) for (const armed of set) fire(armed);
    }
  });
  await subscriber.ping(); // ready first: ioredis's ready check must not run in subscriber mode
  await subscriber.subscribe(channel);
  // After a reconnect ioredis subscribes again, but what was published meanwhile is lost:
  // every waiter reads again.
  subscriber.on('ready', () => {
    for (const set of topics.values()) for (const armed of set) fire(armed);
  });

  function arm(topic: string): Waiter {
    const armed: Armed = { pending: false, wake: undefined };
    let set = topics.get(topic);
    if (!set) topics.set(topic, (set = new Set()));
    set.add(armed);
    let closed = false;
    return {
      next(timeoutMs, signal) {
        if (armed.pending) {
          armed.pending = false;
          return Promise.resolve(true);
        }
        if (closed || signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
        return new Promise<boolean>((resolve) => {
          const settle = (changed: boolean) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            armed.wake = undefined;
            if (changed) armed.pending = false;
            resolve(changed);
          };
          const onAbort = () => settle(false);
          const timer = setTimeout(() => settle(false), timeoutMs);
          signal?.addEventListener('abort', onAbort, { once: true });
          armed.wake = settle;
        });
      },
      close() {
        if (closed) return;
        closed = true;
        armed.wake?.(false);
        set!.delete(armed);
        if (set!.size === 0 && topics.get(topic) === set) topics.delete(topic);
      },
    };
  }

  return {
    armHandoff: (handoffId) => arm(handoffTopic(handoffId)),
    armFeed: (agentId) => arm(feedTopic(agentId)),
    async waitForChange(handoffId, timeoutMs, signal) {
      const waiter = arm(handoffTopic(handoffId));
      try {
        await waiter.next(timeoutMs, signal);
      } finally {
        waiter.close();
      }
    },
    async close() {
      for (const set of topics.values()) for (const armed of set) fire(armed);
      topics.clear();
      // A QUIT while the connection is down waits for a reconnection: end it at once then.
      if (subscriber.status === 'ready') await subscriber.quit().catch(() => subscriber.disconnect());
      else endConnection(subscriber);
    },
  };
}
