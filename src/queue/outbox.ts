import { createHash } from 'node:crypto';
import { platformOf } from '../core/thread-ref.js';
import type { Outbox, OutboundAction } from '../engine/ports.js';
import { outboundJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

function platformOfAction(action: OutboundAction) {
  return action.kind === 'post' || action.kind === 'edit' ? platformOf(action.thread) : action.message.platform;
}

/**
 * How long a dedupe key keeps a second send from being queued, ms (10 min: more than twice a
 * driver's whole retry schedule, which is what could send an approval message twice).
 */
export const outboundDedupeMs = 10 * 60_000;

/**
 * Queues outbound actions on their platform's queue. A dedupe key becomes a BullMQ
 * deduplication id with a TTL, which outlives the job: done jobs are deleted at once, so a
 * posted message costs no Redis memory while its handoff waits.
 */
export function createOutbox(queues: Queues): Outbox {
  const send: Outbox['send'] = async (action, options = {}) => {
    const deduplication = options.dedupeKey
      ? {
          deduplication: {
            id: `out-${createHash('sha256').update(options.dedupeKey).digest('hex').slice(0, 32)}`,
            ttl: outboundDedupeMs,
          },
        }
      : {};
    await queues
      .outbound(platformOfAction(action))
      .add(action.kind, action, { ...outboundJobOptions, ...deduplication });
  };
  return {
    send,
    // One `add` per job rather than addBulk: addBulk's MULTI builds an ioredis pipeline, which
    // copies every script BullMQ defined on the connection (~0.2 ms a call here), while adds
    // made together leave in one write anyway (src/store/coalesced-writes.ts).
    sendAll: async (actions) => {
      await Promise.all(actions.map((action) => send(action)));
    },
  };
}
