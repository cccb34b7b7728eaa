import { createHash } from 'node:crypto';
import { Job } from 'bullmq';
import type { HandoffJobs } from '../engine/ports.js';
import { driverJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

/**
 * The driver job's id for a handoff: 64 bits of the handoff id in base 36, e.g. `d2k1x…`.
 * Short on purpose: BullMQ stores the id inside the job's options, and a job whose every
 * field fits in 64 bytes stays in Redis's compact hash encoding for as long as the handoff
 * waits (about 300 bytes instead of 800). Derived, so starting twice still adds one job.
 */
export function driverJobId(handoffId: string): string {
  const hex =
    /^hf_([0-9a-f]{16})/.exec(handoffId)?.[1] ?? createHash('sha256').update(handoffId).digest('hex').slice(0, 16);
  return `d${BigInt(`0x${hex}`).toString(36)}`;
}

/**
 * Driver jobs: one per handoff, on the bridge's own queue. No agent job is ever their parent:
 * agents learn that a handoff ended from their feed (GET /v1/events), never from the bridge's
 * Redis, and nothing reads a driver job's result: an ended handoff's waiting driver is removed
 * rather than woken (one script instead of a read, a promote and a whole job cycle).
 */
export function createHandoffJobs(queues: Queues): HandoffJobs {
  return {
    async start(handoffId) {
      await queues.handoffs.add('drive', { handoffId }, { ...driverJobOptions, jobId: driverJobId(handoffId) });
    },
    async wake(handoffId) {
      // Promoted by id, unread: BullMQ's promote script checks the job is there and delayed.
      const job = new Job(queues.handoffs, 'drive', { handoffId }, {}, driverJobId(handoffId));
      try {
        await job.promote();
      } catch {
        // Not delayed right now (running, already woken, or gone): the driver re-reads the
        // record after parking itself, so the change is not missed.
      }
    },
    async ended(handoffId) {
      // One script: removes the job unless a worker holds it (then it returns 0, and the
      // running driver reads the ending itself: after parking it re-reads the record, finds
      // nothing to wait for, and completes). A job already gone is no error.
      await queues.handoffs.remove(driverJobId(handoffId), { removeChildren: false });
    },
  };
}
