import type { HandoffJobs, ParentJobRef } from '../engine/ports.js';
import { driverJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

/**
 * Driver jobs: one per handoff, id = handoff id. Started as a child when an agent job waits on
 * it (BullMQ waiting-children); the parent resumes even if the driver job itself fails.
 */
export function createHandoffJobs(queues: Queues): HandoffJobs {
  return {
    async start(handoffId, parent?: ParentJobRef) {
      await queues.handoffs.add(
        'drive',
        { handoffId },
        {
          ...driverJobOptions,
          jobId: handoffId,
          ...(parent ? { parent: { id: parent.id, queue: parent.queue }, ignoreDependencyOnFailure: true } : {}),
        },
      );
    },
    async wake(handoffId) {
      const job = await queues.handoffs.getJob(handoffId);
      if (!job) return;
      try {
        await job.promote();
      } catch {
        // Not delayed right now (running, or already woken): the driver re-reads the record
        // after parking itself, so the change is not missed.
      }
    },
  };
}
