import { Worker, type Queue } from 'bullmq';
import type { Redis } from '../store/redis.js';
import type { Logger } from '../core/logger.js';
import { runQueuedRetirement } from '../engine/credential-expiry.js';
import { runScheduledRefresh } from '../engine/credential-lifecycle.js';
import { sweepRefreshes } from '../engine/credential-refresh-sweep.js';
import { sweepCredentials, type SweepBackoff } from '../engine/credential-sweep.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { isFinalAttempt, runJob } from './job-runner.js';
import { jobLock } from './job-options.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';
import type { CredentialJobData } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

/** How often credentials due a refresh or past their life are looked for, ms. */
export const credentialSweepEveryMs = 1_000;

/**
 * The sweeps of credentials due a refresh (src/engine/credential-refresh-sweep.ts) and past
 * their life (src/engine/credential-sweep.ts) as a job scheduler on the `credentials` queue:
 * one `sweep` job a tick, however many worker processes run.
 */
export async function scheduleCredentialSweep(queue: Queue): Promise<void> {
  await queue.upsertJobScheduler(
    'credential-sweep',
    { every: credentialSweepEveryMs },
    { name: 'sweep', opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
}

/**
 * Runs the credential sweeps, and the `refresh` and `retire` jobs older bridges queued, one
 * per credential (on its last attempt a failed refresh marks the credential as needing a new
 * login).
 */
export function createCredentialWorker(deps: {
  engine: EngineDeps;
  connection: Redis;
  prefix: string;
  /** How long a job stays taken without its worker renewing it (see jobLock). */
  lockMs: number;
  logger: Logger;
}): Worker<CredentialJobData, { outcome: string; refreshes?: number }> {
  const { engine } = deps;
  const sweepBackoff: SweepBackoff = new Map();
  const worker = new Worker<CredentialJobData, { outcome: string; refreshes?: number }>(
    queueNames.credentials,
    (job, token) =>
      runJob(
        job,
        token,
        async () => {
          if (job.name === 'sweep') {
            const [refreshed, swept] = await Promise.all([
              sweepRefreshes(engine, credentialSweepEveryMs),
              sweepCredentials(engine, sweepBackoff),
            ]);
            if (swept.retired + swept.failed > 0) deps.logger.info('credential sweep', { ...swept });
            return { outcome: swept.swept ? 'swept' : 'busy', refreshes: refreshed.size };
          }
          if (job.name === 'retire') {
            const outcome = await runQueuedRetirement(engine, job.data.credentialId);
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
