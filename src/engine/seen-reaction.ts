import type { MessageRef } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * How long a claim may run before its reply is marked 👀 (`seen`), ms. A claim that settles
 * sooner shows only its outcome (✅ / ❌ and the notice): the person sees the answer, not a
 * promise of one, and the platform gets one call fewer. A slow service (or a retry) shows 👀
 * first, so nobody wonders whether the bridge took the reply.
 */
export const seenAfterMs = 1_000;

/**
 * Runs `claim` and queues the `seen` reaction on `message` only if the claim has not settled
 * within `seenAfterMs`, or if it throws (the reply job will be retried, so the answer is slow).
 * A send the timer started is awaited before this returns, so nothing is left half-done; a
 * failed `seen` send is logged, never thrown (the outcome matters, not the 👀). A retried
 * reply job arms a new timer; the dedupe key keeps the throws of its attempts to one `seen`.
 */
export async function withSeenIfSlow<T>(
  deps: EngineDeps,
  handoffId: string,
  message: MessageRef,
  claim: () => Promise<T>,
): Promise<T> {
  let sending: Promise<void> | undefined;
  const sendSeen = () =>
    (sending ??= deps.outbox
      .send({ kind: 'react', handoffId, message, reaction: 'seen' }, { dedupeKey: `seen-${handoffId}-${message.id}` })
      .catch((err: unknown) =>
        deps.logger.warn('could not queue the seen reaction', {
          handoffId,
          error: err instanceof Error ? err.message : String(err),
        }),
      ));
  const timer = setTimeout(sendSeen, seenAfterMs);
  try {
    return await claim();
  } catch (err) {
    await sendSeen();
    throw err;
  } finally {
    clearTimeout(timer);
    await sending;
  }
}
