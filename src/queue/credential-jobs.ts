import type { CredentialJobs } from '../engine/ports.js';
import { credentialJobOptions } from './job-options.js';
import type { Queues } from './queues.js';

/**
 * Refreshes as delayed jobs, not timers: one job per credential and token generation (the
 * expiry it refreshes), so scheduling twice is a no-op and a job for an older token finds
 * nothing to do. Job ids never contain ':'.
 */
export function createCredentialJobs(queues: Queues, now: () => number): CredentialJobs {
  return {
    async scheduleRefresh(credentialId, atMs, generation) {
      await queues.credentials.add(
        'refresh',
        { credentialId, generation },
        { ...credentialJobOptions, jobId: `refresh-${credentialId}-${generation}`, delay: Math.max(0, atMs - now()) },
      );
    },
  };
}
