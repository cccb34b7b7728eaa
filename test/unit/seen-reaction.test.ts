import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineDeps } from '../../src/engine/engine-deps.js';
import type { OutboundAction } from '../../src/engine/ports.js';
import { seenAfterMs, withSeenIfSlow } from '../../src/engine/seen-reaction.js';

/**
 * The timer around a claim (src/engine/seen-reaction.ts), on fake timers: when 👀 is queued,
 * that no timer outlives the claim, and that a send in flight is awaited. The whole path on a
 * real bridge is test/integration/seen-reaction.test.ts.
 */
describe('withSeenIfSlow', () => {
  const message = { platform: 'local', thread: 'local:t', id: 't.0000000000000001' } as const;
  let sent: Array<{ action: OutboundAction; dedupeKey: string | undefined }>;
  let warnings: string[];
  let sendResult: () => Promise<void>;
  const deps = () =>
    ({
      outbox: {
        send: (action: OutboundAction, options: { dedupeKey?: string } = {}) => {
          sent.push({ action, dedupeKey: options.dedupeKey });
          return sendResult();
        },
        sendAll: async () => undefined,
      },
      logger: { warn: (msg: string) => warnings.push(msg) },
    }) as unknown as EngineDeps;
  const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    warnings = [];
    sendResult = async () => undefined;
  });
  afterEach(() => vi.useRealTimers());

  it('queues nothing for a claim that settles in time, and leaves no timer behind', async () => {
    const result = withSeenIfSlow(deps(), 'hf_1', message, () => after(seenAfterMs - 1, 'completed'));
    await vi.advanceTimersByTimeAsync(seenAfterMs - 1);
    await expect(result).resolves.toBe('completed');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * seenAfterMs);
    expect(sent).toEqual([]);
  });

  it('queues 👀 once when the claim is still running at the threshold', async () => {
    const result = withSeenIfSlow(deps(), 'hf_1', message, () => after(3 * seenAfterMs, 'completed'));
    await vi.advanceTimersByTimeAsync(seenAfterMs);
    expect(sent.map((s) => s.action)).toEqual([{ kind: 'react', handoffId: 'hf_1', message, reaction: 'seen' }]);
    await vi.advanceTimersByTimeAsync(2 * seenAfterMs);
    await expect(result).resolves.toBe('completed');
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('queues 👀 for a claim that throws (its job is retried), once per reply, and clears the timer', async () => {
    const boom = new Error('service unreachable');
    const result = withSeenIfSlow(deps(), 'hf_1', message, () => Promise.reject(boom));
    await expect(result).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
    expect(sent.map((s) => s.dedupeKey)).toEqual([`seen-hf_1-${message.id}`]);
    await vi.advanceTimersByTimeAsync(10 * seenAfterMs);
    expect(sent).toHaveLength(1);
  });

  it('waits for a send in flight before it returns', async () => {
    let release!: () => void;
    sendResult = () => new Promise<void>((resolve) => (release = resolve));
    let settled = false;
    const result = withSeenIfSlow(deps(), 'hf_1', message, () => after(seenAfterMs + 10, 'completed')).then((v) => {
      settled = true;
      return v;
    });
    await vi.advanceTimersByTimeAsync(seenAfterMs + 10);
    expect(settled).toBe(false); // the claim is done, the 👀 send is not
    release();
    await expect(result).resolves.toBe('completed');
  });

  it('logs a failed 👀 send and still gives the claim’s outcome (or its error)', async () => {
    sendResult = () => Promise.reject(new Error('redis down'));
    const slow = withSeenIfSlow(deps(), 'hf_1', message, () => after(seenAfterMs + 10, 'completed'));
    await vi.advanceTimersByTimeAsync(seenAfterMs + 10);
    await expect(slow).resolves.toBe('completed');
    const boom = new Error('service unreachable');
    await expect(withSeenIfSlow(deps(), 'hf_2', message, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(warnings).toEqual(['could not queue the seen reaction', 'could not queue the seen reaction']);
  });
});
