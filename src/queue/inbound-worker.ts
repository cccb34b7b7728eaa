import { Worker } from 'bullmq';
import type { Redis } from '../store/redis.js';
import type { Logger } from '../core/logger.js';
import type { InboundReply } from '../core/thread-adapter.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { handleReply, type ReplyResult } from '../engine/reply-handler.js';
import { inboundSealContext } from './inbound-intake.js';
import { isFinalAttempt, runJob } from './job-runner.js';
import { jobLock } from './job-options.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';
import type { InboundJobData } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

/** Runs inbound replies through the engine. The job's return value holds no text. */
export function createInboundWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
  /** How long a job stays taken without its worker renewing it (see jobLock). */
  lockMs: number;
  concurrency: number;
  logger: Logger;
}): Worker<InboundJobData, { result: ReplyResult }> {
  const { engine } = deps;
  const worker = new Worker<InboundJobData, { result: ReplyResult }>(
    queueNames.inbound,
    async (job, token) => {
      const data = job.data;
      const reply: InboundReply = {
        platform: data.platform,
        thread: data.thread,
        ...(data.handoffId ? { handoffId: data.handoffId } : {}),
        ...(data.handoffId && data.answerPrivately ? { answerPrivately: true } : {}),
        ...(data.linkVersion !== undefined ? { linkVersion: data.linkVersion } : {}),
        author: data.author,
        text: engine.vault.open(data.sealedText, inboundSealContext(job.id!)),
        messageRef: data.messageRef,
        deliveryId: data.deliveryId,
        receivedAt: data.receivedAt,
      };
      return runJob(
        job,
        token,
        async () => {
          const result = await handleReply(engine, reply, job.id!, { finalAttempt: isFinalAttempt(job) });
          deps.logger.debug('reply handled', { platform: data.platform, thread: data.thread, result });
          return { result };
        },
        {
          clock: engine.clock,
          logger: deps.logger,
          failure: 'reply handling deferred or failed',
          fields: { platform: data.platform, thread: data.thread },
          // A busy handoff makes its reply wait a second: routine, not a warning.
          delayIsRoutine: true,
        },
      );
    },
    {
      connection: deps.connection,
      prefix: queueKeyPrefix(deps.prefix, queueNames.inbound),
      ...jobLock(deps.lockMs),
      concurrency: deps.concurrency,
    },
  );
  logWorkerErrors(worker, deps.logger, 'inbound worker');
  return worker;
}
