import type { Redis } from 'ioredis';

/**
 * Long-poll support: one subscription per process to the handoff status channel, and
 * in-memory waiters keyed by handoff id. Waiters always have a timeout, so a missed message
 * costs at most one wait, never a hang.
 */
export interface StatusEvents {
  /** Resolves when `handoffId` changes status, after `timeoutMs`, or when `signal` aborts. */
  waitForChange(handoffId: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export async function createStatusEvents(subscriber: Redis, channel: string): Promise<StatusEvents> {
  const waiters = new Map<string, Set<() => void>>();
  subscriber.on('message', (_channel: string, message: string) => {
    const id = message.split(' ')[0] ?? '';
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const wake of set) wake();
  });
  await subscriber.ping(); // ready first: ioredis's ready check must not run in subscriber mode
  await subscriber.subscribe(channel);

  return {
    waitForChange(handoffId, timeoutMs, signal) {
      return new Promise<void>((resolve) => {
        let set = waiters.get(handoffId);
        if (!set) waiters.set(handoffId, (set = new Set()));
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          set!.delete(done);
          if (set!.size === 0 && waiters.get(handoffId) === set) waiters.delete(handoffId);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener('abort', done, { once: true });
        set.add(done);
      });
    },
    async close() {
      for (const set of waiters.values()) for (const wake of set) wake();
      waiters.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
