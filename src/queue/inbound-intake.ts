import { createHash } from 'node:crypto';
import type { InboundReply, InboundSink } from '../core/thread-adapter.js';
import { wellFormed } from '../core/well-formed.js';
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
 * The reply with every string well-formed (lone surrogates → U+FFFD): platform text is
 * anyone's, and a lone surrogate that reached a record or a key would poison it. One place
 * for every platform and every way in (webhooks, Socket Mode, polls, local threads).
 */
function wellFormedReply(reply: InboundReply): InboundReply {
  const { author, messageRef } = reply;
  return {
    ...reply,
    thread: wellFormed(reply.thread),
    author: {
      id: wellFormed(author.id),
      ...(author.name !== undefined ? { name: wellFormed(author.name) } : {}),
      ...(author.email !== undefined ? { email: wellFormed(author.email) } : {}),
    },
    text: wellFormed(reply.text),
    messageRef: { ...messageRef, thread: wellFormed(messageRef.thread), id: wellFormed(messageRef.id) },
    deliveryId: wellFormed(reply.deliveryId),
  };
}

/**
 * Where adapters hand verified replies: repair ill-formed text, deduplicate by delivery id and
 * message id, seal the text, enqueue. Fast on purpose: platforms expect an answer within seconds.
 */
export function createInboundIntake(deps: {
  queues: Queues;
  dedupe: DedupeStore;
  vault: Vault;
  store: HandoffStore;
}): InboundSink {
  return async (delivered) => {
    const reply = wellFormedReply(delivered);
    // Most thread replies are conversation: without an open handoff there is nothing to do,
    // and nothing is written (no dedupe marker, no job). The check rides in the claim's script.
    // A click on a handoff's own button needs its record only: a click after the decision is
    // answered privately ("already approved by …") while the record is kept.
    const identity = { platform: reply.platform, deliveryId: reply.deliveryId, messageId: reply.messageRef.id };
    const clicked = reply.handoffId !== undefined && reply.answerPrivately === true;
    const verdict = await deps.dedupe.claim(identity, {
      whileExists: clicked ? deps.store.recordKey(reply.handoffId!) : deps.store.openMarker(reply.thread),
    });
    if (verdict !== 'claimed') return verdict;
    const jobId = inboundJobId(reply);
    try {
      await deps.queues.inbound.add(
        'reply',
        {
          platform: reply.platform,
          thread: reply.thread,
          ...(reply.handoffId ? { handoffId: reply.handoffId } : {}),
          ...(clicked ? { answerPrivately: true } : {}),
          ...(reply.linkVersion !== undefined ? { linkVersion: reply.linkVersion } : {}),
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
