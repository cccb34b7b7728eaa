import { Worker } from 'bullmq';
import type { Redis } from '../store/redis.js';
import type { Logger } from '../core/logger.js';
import { runRetirementCheck } from '../engine/credential-expiry.js';
import { runScheduledRefresh } from '../engine/credential-lifecycle.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { isFinalAttempt, runJob } from './job-runner.js';
import { jobLock } from './job-options.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';
import type { CredentialJobData } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

/**
 * Runs scheduled credential refreshes (on the last attempt a failed refresh marks the
 * credential as needing a new login) and checks of credentials' life (`retire` jobs).
 */
export function createCredentialWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
  /** How long a job stays taken without its worker renewing it (see jobLock). */
  lockMs: number;
  logger: Logger;
}): Worker<CredentialJobData, { outcome: string }> {
  const { engine } = deps;
  const worker = new Worker<CredentialJobData, { outcome: string }>(
    queueNames.credentials,
    (job, token) =>
      runJob(
        job,
        token,
        async () => {
          if (job.name === 'retire') {
            const outcome = await runRetirementCheck(engine, job.data.credentialId, job.data.generation);
            deps.logger.debug('credential life check', { credentialId: job.data.credentialId, outcome });
            return { outcome };
          }
          const { credentialId, generation } = job.data;
          const outcome = await runScheduledRefresh(engine, credentialId, generation, isFinalAttempt(job));
          deps.logger.debug('credential refresh', { credentialId, outcome: outcome.kind });
          return { outcome: outcome.kind };
        },
        {
          clock: engine.clock,
          logger: deps.logger,
          failure: 'credential refresh failed',
          fields: { credentialId: job.data.credentialId },
        },
      ),
    {
      connection: deps.connection,
      prefix: queueKeyPrefix(deps.prefix, queueNames.credentials),
      ...jobLock(deps.lockMs),
      concurrency: 8,
    },
  );
  logWorkerErrors(worker, deps.logger, 'credential worker');
  return worker;
}
