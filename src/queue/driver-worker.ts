import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from '../store/redis.js';
import { nextDriverStep, type HandoffOutcome } from '../core/handoff.js';
import type { Logger } from '../core/logger.js';
import { failDriver, runDriver } from '../engine/driver.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { driverBackoff, driverRetention, jobLock } from './job-options.js';
import { runJob } from './job-runner.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';
import type { DriverJobData } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

/**
 * Runs driver jobs. A driver that must wait is parked as a delayed job until its next moment
 * (expiry or next poll) and woken early by `HandoffJobs.wake`. After parking it reads the
 * record once more: a change that raced the parking (a reply finishing the handoff) promotes
 * it at once, so no wake-up is lost.
 */
export function createDriverWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
  /** How long a job stays taken without its worker renewing it (see jobLock). */
  lockMs: number;
  concurrency: number;
  logger: Logger;
}): Worker<DriverJobData, HandoffOutcome> {
  const { engine } = deps;

  async function park(job: Job<DriverJobData>, token: string, untilMs: number): Promise<never> {
    const now = engine.clock.now();
    await job.moveToDelayed(Math.max(untilMs, now + 1), token);
    const record = await engine.store.get(job.data.handoffId);
    const step = record ? nextDriverStep(record, engine.clock.now()) : undefined;
    if (step && (step.kind !== 'wait' || step.untilMs < untilMs)) await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  const worker = new Worker<DriverJobData, HandoffOutcome>(
    queueNames.handoffs,
    (job, token) => {
      const { handoffId } = job.data;
      return runJob(
        job,
        token,
        async () => {
          const result = await runDriver(engine, handoffId, job.id!);
          if (result.kind === 'finish') return result.outcome;
          return park(job, token!, result.untilMs);
        },
        {
          clock: engine.clock,
          logger: deps.logger,
          failure: 'handoff driver step failed',
          fields: { handoffId },
          // The driver ends its handoff as failed; a wait parks it like any other wait.
          onFail: (err) => failDriver(engine, handoffId, err),
          onDelay: (delayMs) => park(job, token!, engine.clock.now() + delayMs),
        },
      );
    },
    {
      connection: deps.connection,
      prefix: queueKeyPrefix(deps.prefix, queueNames.handoffs),
      ...jobLock(deps.lockMs),
      concurrency: deps.concurrency,
      ...driverRetention,
      settings: { backoffStrategy: driverBackoff },
    },
  );
  logWorkerErrors(worker, deps.logger, 'driver worker');
  return worker;
}
