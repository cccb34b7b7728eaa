import { createHash } from 'node:crypto';
import { platformOf, type Platform } from '../core/thread-ref.js';
import type { Outbox, OutboundAction } from '../engine/ports.js';
import { outboundJobOptions } from './job-options.js';
import type { OutboundBatch, Queues } from './queues.js';

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
 *
 * `unpaced`: platforms whose adapter sets no outbound pace (`outboundRateLimit`). Actions
 * sent together for one of them go as one job (an OutboundBatch, run in order): a job costs
 * the bridge more than the actions it carries there. A paced platform gets a job per action,
 * because its pace counts jobs and each action is a call to the platform.
 */
export function createOutbox(queues: Queues, unpaced: readonly Platform[] = []): Outbox {
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
  const sendBatch = async (platform: Platform, actions: readonly OutboundAction[]) => {
    const batch: OutboundBatch = { kind: 'batch', handoffId: actions[0]!.handoffId, actions };
    await queues.outbound(platform).add('batch', batch, outboundJobOptions);
  };
  return {
    send,
    // One `add` per job rather than addBulk: addBulk's MULTI builds an ioredis pipeline, which
    // copies every script BullMQ defined on the connection (~0.2 ms a call here), while adds
    // made together leave in one write anyway (src/store/coalesced-writes.ts).
    sendAll: async (actions) => {
      // A batch holds one handoff's actions on one platform.
      const groups = new Map<string, { platform: Platform; actions: OutboundAction[] }>();
      for (const action of actions) {
        const platform = platformOfAction(action);
        const key = `${platform} ${action.handoffId}`;
        const group = groups.get(key) ?? { platform, actions: [] };
        group.actions.push(action);
        groups.set(key, group);
      }
      await Promise.all(
        [...groups.values()].flatMap(({ platform, actions: group }) =>
          group.length > 1 && unpaced.includes(platform)
            ? [sendBatch(platform, group)]
            : group.map((action) => send(action)),
        ),
      );
    },
  };
}
