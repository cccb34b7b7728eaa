import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError, HandoffError, RateLimitedError } from '../../src/core/errors.js';
import { runJob, type JobRunOptions } from '../../src/queue/job-runner.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The one job runner every worker uses, on real BullMQ and Redis: each error signal does what
 * job-signals.ts says, with nothing secret stored in the failed job.
 */
describe('runJob: the error→signal mapping applied to a real job', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('runner');
  const { logger, lines } = captureLogs('job-runner');
  const closers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const secret = `aae_${'s3cr3t'.repeat(5)}`;
  type Step = (job: Job) => Promise<string>;
  const steps = new Map<string, Step>();
  const runs = new Map<string, number>();
  const overrides = new Map<string, Partial<JobRunOptions<string>>>();

  const queue = new Queue('runner', { connection: redis, prefix });
  const worker = new Worker(
    'runner',
    (job, token) => {
      runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1);
      return runJob(job, token, () => steps.get(job.name)!(job), {
        clock: { now: Date.now },
        logger,
        failure: 'test step failed',
        fields: { step: job.name },
        ...overrides.get(job.name),
      });
    },
    { connection: redis, prefix, concurrency: 4 },
  );
  closers.push(queue, worker);

  const settled = (id: string) =>
    waitFor(`job ${id} settled`, async () => {
      const job = await queue.getJob(id);
      const state = await job?.getState();
      return state === 'completed' || state === 'failed' ? { job: job!, state } : undefined;
    });

  it('never: fails at once, no retry, storing only the code and a masked message', async () => {
    steps.set('bad', async () => {
      throw new BadInputError(`refused ${secret}`, { code: 'bad_thing' });
    });
    await queue.add('bad', {}, { jobId: 'bad-1', attempts: 5, backoff: { type: 'fixed', delay: 10 } });
    const { job, state } = await settled('bad-1');
    expect(state).toBe('failed');
    expect(runs.get('bad-1')).toBe(1);
    expect(job.failedReason).toBe('bad_thing: refused [redacted]');
    expect(JSON.stringify(job.stacktrace)).not.toContain(secret);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('backoff: retried until attempts run out, then failed masked', async () => {
    steps.set('flaky', async () => {
      throw new Error(`socket hang up near ${secret}`);
    });
    await queue.add('flaky', {}, { jobId: 'flaky-1', attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const { job, state } = await settled('flaky-1');
    expect(state).toBe('failed');
    expect(runs.get('flaky-1')).toBe(3);
    expect(job.failedReason).not.toContain(secret);
    expect(job.failedReason).toMatch(/^internal_error: /);
  });

  it('after_delay: parked for the time asked (at least 1 s) without spending an attempt', async () => {
    let first = true;
    steps.set('limited', async () => {
      if (first) {
        first = false;
        throw new RateLimitedError('slow down', 0);
      }
      return 'done';
    });
    const started = Date.now();
    await queue.add('limited', {}, { jobId: 'limited-1', attempts: 1 });
    const { job, state } = await settled('limited-1');
    expect(state).toBe('completed');
    expect(job.returnvalue).toBe('done');
    expect(runs.get('limited-1')).toBe(2); // one attempt allowed, yet it ran twice
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('a worker may take over fail and delay, and a DelayedError of its own passes through', async () => {
    steps.set('ends', async () => {
      throw new HandoffError('gone', { code: 'gone', status: 410, retry: 'never' });
    });
    overrides.set('ends', { onFail: async (err) => `ended: ${(err as HandoffError).code}` });
    await queue.add('ends', {}, { jobId: 'ends-1', attempts: 5 });
    const ended = await settled('ends-1');
    expect(ended.state).toBe('completed');
    expect(ended.job.returnvalue).toBe('ended: gone');

    let parkedOnce = false;
    steps.set('parks', async (job) => {
      if (parkedOnce) return 'woke';
      parkedOnce = true;
      await job.moveToDelayed(Date.now() + 50, job.token);
      throw new DelayedError();
    });
    await queue.add('parks', {}, { jobId: 'parks-1', attempts: 1 });
    const parked = await settled('parks-1');
    expect(parked.state).toBe('completed');
    expect(parked.job.returnvalue).toBe('woke');
    expect(lines.filter((l) => l.includes('"step":"parks"'))).toEqual([]); // not logged as a failure
  });
});
