import { createHash } from 'node:crypto';
import type { InboundReply, InboundSink } from '../core/thread-adapter.js';
import type { DedupeStore } from '../store/dedupe.js';
import type { HandoffStore } from '../store/handoff-store.js';
import type { Vault } from '../store/vault.js';
import { inboundJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

/** The job id of an inbound reply: one per platform message, whoever delivers it. */
export function inboundJobId(reply: Pick<InboundReply, 'platform' | 'messageRef'>): string {
  return `in-${createHash('sha256').update(`${reply.platform}\n${reply.messageRef.id}`).digest('hex').slice(0, 32)}`;
}

/** Context string the reply text is sealed under (binds the ciphertext to its job). */
export const inboundSealContext = (jobId: string): string => `inbound:${jobId}`;

/**
 * Where adapters hand verified replies: deduplicate by delivery id and message id, seal the
 * text, enqueue. Fast on purpose: platforms expect an answer within seconds.
 */
export function createInboundIntake(deps: { queues: Queues; dedupe: DedupeStore; vault: Vault; store: HandoffStore }): InboundSink {
  return async (reply) => {
    // Most thread replies are conversation: without an open handoff there is nothing to do,
    // and nothing is written (no dedupe marker, no job). The check rides in the claim's script.
    const identity = { platform: reply.platform, deliveryId: reply.deliveryId, messageId: reply.messageRef.id };
    const verdict = await deps.dedupe.claim(identity, { whileExists: deps.store.openMarker(reply.thread) });
    if (verdict !== 'claimed') return verdict;
    const jobId = inboundJobId(reply);
    try {
      await deps.queues.inbound.add(
        'reply',
        {
          platform: reply.platform,
          thread: reply.thread,
          ...(reply.handoffId ? { handoffId: reply.handoffId } : {}),
          author: reply.author,
          sealedText: deps.vault.seal(reply.text, inboundSealContext(jobId)),
          messageRef: reply.messageRef,
          deliveryId: reply.deliveryId,
          receivedAt: reply.receivedAt,
        },
        { ...inboundJobOptions, jobId },
      );
    } catch (err) {
      await deps.dedupe.release(identity).catch(() => undefined);
      throw err;
    }
    await deps.dedupe.confirm(identity);
    return 'accepted';
  };
}
