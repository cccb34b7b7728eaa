import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { jobSignalFor, type JobSignal } from './job-signals.js';
import { safeError } from './safe-error.js';

/** How one worker reports and reacts to a failed step; the mapping itself is `jobSignalFor`. */
export interface JobRunOptions<R> {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The log line for a failed step, e.g. 'outbound action failed'. */
  readonly failure: string;
  /** Fields logged with it (never the job's text). */
  readonly fields: Record<string, unknown>;
  /** Log a delay at info rather than warn (an expected wait, such as a busy handoff). */
  readonly delayIsRoutine?: boolean;
  /** Instead of failing the job for good (e.g. the driver ends its handoff and returns the outcome). */
  readonly onFail?: (err: unknown) => Promise<R>;
  /** Instead of moving the job to delayed (e.g. the outbound worker pauses its whole queue). */
  readonly onDelay?: (delayMs: number, err: unknown) => Promise<R>;
}

/** The error that fails a job for good; its stored message is code + masked text. */
export const failForGood = (err: unknown): UnrecoverableError => new UnrecoverableError(safeError(err).message);

/** True when this run is the job's last attempt. */
export const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

/**
 * Runs one job's work and applies the one error→signal mapping to whatever it throws, for
 * every worker: `fail` ends the job (no retries), `delay` parks it for the time asked without
 * spending an attempt, `retry` rethrows a masked error so BullMQ backs off. A `DelayedError`
 * the work throws itself (it parked its own job) passes through.
 */
export async function runJob<R>(
  job: Job,
  token: string | undefined,
  work: () => Promise<R>,
  options: JobRunOptions<R>,
): Promise<R> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    const signal: JobSignal = jobSignalFor(err, job.attemptsMade, job.opts.attempts ?? 1);
    const level = signal.kind === 'delay' && options.delayIsRoutine ? 'info' : 'warn';
    options.logger[level](options.failure, { ...options.fields, signal: signal.kind, error: err });
    if (signal.kind === 'fail') {
      if (options.onFail) return options.onFail(err);
      throw failForGood(err);
    }
    if (signal.kind === 'delay') {
      if (options.onDelay) return options.onDelay(signal.delayMs, err);
      await job.moveToDelayed(options.clock.now() + signal.delayMs, token);
      throw new DelayedError();
    }
    throw safeError(err);
  }
}
