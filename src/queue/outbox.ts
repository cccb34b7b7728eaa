import { createHash } from 'node:crypto';
import { splitThreadRef } from '../core/thread-ref.js';
import type { Outbox, OutboundAction } from '../engine/ports.js';
import { outboundJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

function platformOf(action: OutboundAction) {
  return action.kind === 'post' ? splitThreadRef(action.thread).platform : action.message.platform;
}

/** Queues outbound actions on their platform's queue; a dedupe key becomes the job id. */
export function createOutbox(queues: Queues): Outbox {
  return {
    async send(action, options = {}) {
      const jobId = options.dedupeKey ? `out-${createHash('sha256').update(options.dedupeKey).digest('hex').slice(0, 32)}` : undefined;
      await queues.outbound(platformOf(action)).add(action.kind, action, { ...outboundJobOptions, ...(jobId ? { jobId } : {}) });
    },
  };
}
