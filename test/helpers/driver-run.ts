import { driverJobId } from '../../src/queue/handoff-jobs.js';
import type { TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/**
 * Runs a waiting handoff's driver job once more, now, and returns when it has parked again: the
 * way tests move a test clock forward and let the bridge act on it. The job is promoted like
 * any wake-up; "parked again" is the job delayed with a later `processedOn` than before, or
 * done (completed, or removed: an ended handoff's driver job is dropped).
 */
export async function runDriverNow(bridge: TestBridge, handoffId: string): Promise<void> {
  const queue = bridge.bridge.queues.handoffs;
  const id = driverJobId(handoffId);
  const before = await waitFor('the driver job parked or done', async () => {
    const job = await queue.getJob(id);
    if (!job) return { job, state: 'removed' as const };
    const state = await job.getState();
    return state === 'delayed' || state === 'completed' ? { job, state } : undefined;
  });
  // A handoff that ended has no driver left to run: waking it does nothing.
  if (!before.job || before.state !== 'delayed') return;
  const processedBefore = before.job.processedOn;
  await bridge.bridge.engine.jobs.wake(handoffId);
  await waitFor('the driver job to run and park again', async () => {
    const job = await queue.getJob(id);
    if (!job) return true;
    const state = await job.getState();
    if (state === 'completed') return true;
    return state === 'delayed' && job.processedOn !== processedBefore ? true : undefined;
  });
}
