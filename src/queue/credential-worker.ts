import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { runRetirementCheck } from '../engine/credential-expiry.js';
import { runScheduledRefresh } from '../engine/credential-lifecycle.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { jobSignalFor } from './job-signals.js';
import { queueNames } from './queue-names.js';
import type { CredentialJobData } from './queues.js';
import { safeError } from './safe-error.js';
import { logWorkerErrors } from './worker-errors.js';

/**
 * Runs scheduled credential refreshes (on the last attempt a failed refresh marks the
 * credential as needing a new login) and checks of credentials' life (`retire` jobs).
 */
export function createCredentialWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
  logger: Logger;
}): Worker<CredentialJobData, { outcome: string }> {
  const { engine } = deps;
  const worker = new Worker<CredentialJobData, { outcome: string }>(
    queueNames.credentials,
    async (job, token) => {
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        if (job.name === 'retire') {
          const outcome = await runRetirementCheck(engine, job.data.credentialId, job.data.generation);
          deps.logger.debug('credential life check', { credentialId: job.data.credentialId, outcome });
          return { outcome };
        }
        const outcome = await runScheduledRefresh(engine, job.data.credentialId, job.data.generation, finalAttempt);
        deps.logger.debug('credential refresh', { credentialId: job.data.credentialId, outcome: outcome.kind });
        return { outcome: outcome.kind };
      } catch (err) {
        const signal = jobSignalFor(err, job.attemptsMade, job.opts.attempts ?? 1);
        deps.logger.warn('credential refresh failed', {
          credentialId: job.data.credentialId,
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
    { connection: deps.connection, prefix: deps.prefix, concurrency: 8 },
  );
  logWorkerErrors(worker, deps.logger, 'credential worker');
  return worker;
}
