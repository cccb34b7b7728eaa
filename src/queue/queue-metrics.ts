import type { Platform } from '../core/thread-ref.js';
import type { Queues } from './queues.js';

/** One gauge: how many jobs one queue holds in one state. */
export interface QueueDepth {
  readonly queue: string;
  readonly state: string;
  readonly jobs: number;
}

/** What `/metrics` needs from the queue layer, without BullMQ objects. */
export interface QueueMetrics {
  depths(): Promise<QueueDepth[]>;
}

const states = ['waiting', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

/** Depths of the bridge's queues: driver, inbound, credentials and each platform's outbound. */
export function createQueueMetrics(queues: Queues, platforms: readonly Platform[]): QueueMetrics {
  return {
    async depths() {
      const all = [queues.handoffs, queues.inbound, queues.credentials, ...platforms.map((p) => queues.outbound(p))];
      const out: QueueDepth[] = [];
      for (const queue of all) {
        const counts = await queue.getJobCounts(...states);
        for (const [state, jobs] of Object.entries(counts)) out.push({ queue: queue.name, state, jobs });
      }
      return out;
    },
  };
}
