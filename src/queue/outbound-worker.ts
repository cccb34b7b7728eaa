import { Worker, type Job } from 'bullmq';
import type { Redis } from '../store/redis.js';
import type { Logger } from '../core/logger.js';
import type { ThreadAdapter } from '../core/thread-adapter.js';
import { failDriver } from '../engine/driver.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import type { OutboundAction } from '../engine/ports.js';
import { recordRedaction } from '../engine/redaction.js';
import { editRequestMessage, rememberRequestMessage } from '../engine/approval-edit.js';
import { failForGood, runJob } from './job-runner.js';
import { jobLock } from './job-options.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';
import type { OutboundBatch, OutboundJobData } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

async function perform(
  adapter: ThreadAdapter,
  action: OutboundAction,
  engine: EngineDeps,
  jobId: string,
): Promise<string> {
  switch (action.kind) {
    case 'post': {
      const thread = adapter.parseThread(action.thread);
      // The job id survives retries of this job and no other post has it.
      const context = { idempotencyKey: jobId };
      const ref =
        action.answerTo && adapter.answerPrivately
          ? await adapter.answerPrivately(thread, action.answerTo, action.message)
          : action.to && adapter.postPrivately
            ? await adapter.postPrivately(thread, action.to, action.message, context)
            : await adapter.post(thread, action.message, context);
      if (action.keepRef) await rememberRequestMessage(engine, action.handoffId, ref);
      return ref.id;
    }
    case 'edit':
      return editRequestMessage(engine, adapter, action, { idempotencyKey: jobId });
    case 'react':
      if (adapter.react) await adapter.react(action.message, action.reaction);
      return action.reaction;
    case 'redact': {
      const outcome = adapter.redact ? await adapter.redact(action.message) : 'unsupported';
      await recordRedaction(engine, action, adapter.platform, outcome);
      return outcome;
    }
  }
}

/**
 * Runs a batch's actions in order from the first not yet done. When one fails, the job first
 * records how many went through, so its retry (or a rate limit's wait) starts at that one;
 * a crash instead runs the batch again from where the last record left it, which each action
 * survives as it survives its own job's retry (a post keeps its idempotency key: the job id,
 * and `.<index>` after the first).
 */
async function performBatch(
  adapter: ThreadAdapter,
  job: Job<OutboundJobData, string>,
  batch: OutboundBatch,
  engine: EngineDeps,
): Promise<string> {
  const results: string[] = [];
  const from = batch.done ?? 0;
  for (let i = from; i < batch.actions.length; i++) {
    try {
      results.push(await perform(adapter, batch.actions[i]!, engine, i === 0 ? job.id! : `${job.id!}.${i}`));
    } catch (err) {
      // Unrecorded (Redis away), the retry repeats what went through: each action survives it.
      // The action's own error is what decides the job's fate.
      if (i > from) await job.updateData({ ...batch, done: i }).catch(() => undefined);
      throw err;
    }
  }
  return results.join(' ');
}

const isCritical = (data: OutboundJobData): boolean =>
  data.kind === 'batch' ? data.actions.some(isCritical) : data.kind === 'post' && data.critical === true;

/**
 * Carries out one platform's outbound actions within the platform's budget. A rate limit
 * pauses this platform's queue for as long as the platform asked: the action waits, it is
 * never dropped. When an approval message cannot be delivered at all, its handoff fails.
 */
export function createOutboundWorker(deps: {
  engine: EngineDeps;
  adapter: ThreadAdapter;
  connection: Redis;
  prefix: string;
  /** How long a job stays taken without its worker renewing it (see jobLock). */
  lockMs: number;
  logger: Logger;
}): Worker<OutboundJobData, string> {
  const { engine, adapter } = deps;
  const limit = adapter.outboundRateLimit;
  const worker: Worker<OutboundJobData, string> = new Worker<OutboundJobData, string>(
    queueNames.outbound(adapter.platform),
    (job, token) =>
      runJob(
        job,
        token,
        () =>
          job.data.kind === 'batch'
            ? performBatch(adapter, job, job.data, engine)
            : perform(adapter, job.data, engine, job.id!),
        {
          clock: engine.clock,
          logger: deps.logger,
          failure: 'outbound action failed',
          fields: { platform: adapter.platform, action: job.data.kind, handoffId: job.data.handoffId },
          // A platform's rate limit pauses this platform's whole queue, not just the one job.
          onDelay: async (delayMs) => {
            await worker.rateLimit(delayMs);
            throw Worker.RateLimitError();
          },
          onFail: async (err) => {
            if (isCritical(job.data)) await failDriver(engine, job.data.handoffId, err);
            throw failForGood(err);
          },
        },
      ),
    {
      connection: deps.connection,
      prefix: queueKeyPrefix(deps.prefix, queueNames.outbound(adapter.platform)),
      ...jobLock(deps.lockMs),
      concurrency: limit ? 1 : 8,
      ...(limit ? { limiter: { max: limit.max, duration: limit.durationMs } } : {}),
    },
  );
  logWorkerErrors(worker, deps.logger, 'outbound worker', { platform: adapter.platform });
  return worker;
}
