import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { InboundReply } from '../core/thread-adapter.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { handleReply, type ReplyResult } from '../engine/reply-handler.js';
import { inboundSealContext } from './inbound-intake.js';
import { jobSignalFor } from './job-signals.js';
import { queueNames } from './queue-names.js';
import type { InboundJobData } from './queues.js';
import { safeError } from './safe-error.js';
import { logWorkerErrors } from './worker-errors.js';

/** Runs inbound replies through the engine. The job's return value holds no text. */
export function createInboundWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
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
        author: data.author,
        text: engine.vault.open(data.sealedText, inboundSealContext(job.id!)),
        messageRef: data.messageRef,
        deliveryId: data.deliveryId,
        receivedAt: data.receivedAt,
      };
      try {
        const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const result = await handleReply(engine, reply, job.id!, { finalAttempt });
        deps.logger.debug('reply handled', { platform: data.platform, thread: data.thread, result });
        return { result };
      } catch (err) {
        const signal = jobSignalFor(err, job.attemptsMade, job.opts.attempts ?? 1);
        const level = signal.kind === 'delay' ? 'info' : 'warn';
        deps.logger[level]('reply handling deferred or failed', {
          platform: data.platform,
          thread: data.thread,
          signal: signal.kind,
          error: err,
        });
        if (signal.kind === 'fail') throw new UnrecoverableError(safeError(err).message);
        if (signal.kind === 'delay') {
          await job.moveToDelayed(engine.clock.now() + signal.delayMs, token);
          throw new DelayedError();
        }
        throw safeError(err);
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency },
  );
  logWorkerErrors(worker, deps.logger, 'inbound worker');
  return worker;
}
