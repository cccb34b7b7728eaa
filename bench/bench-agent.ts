import { Queue, Worker } from 'bullmq';
import type { Redis } from '../src/store/redis.js';
import type { BridgeClient } from '../src/client/bridge-client.js';
import { createLoginResumer } from '../src/client/login-resumer.js';
import { requireLogin } from '../src/client/require-login.js';

/**
 * An agent worker like examples/agent-worker.ts, except that right after requireLogin()
 * returns it records Date.now() instead of calling the service: that moment is "the agent
 * job resumed". Each task is tagged so the bench can match resumes to replies. Its queue and
 * resumer live on `connection` (the agent's Redis); it reaches the bridge only over HTTP,
 * with the operator token acting for agent `bench-agent`.
 */
export interface BenchTask {
  readonly tag: string;
  readonly service: string;
  readonly thread: string;
  readonly approvers: readonly string[];
}

export const benchAgentQueue = 'bench-agent';

/** The agent every bench task logs in as (the bench holds the operator token and acts for it). */
export const benchAgentId = 'bench-agent';

export interface BenchAgent {
  readonly queue: Queue<BenchTask>;
  /** Resolves with the resume time (epoch ms) of the task tagged `tag`. */
  resumed(tag: string): Promise<number>;
  /** Hops of the resume of `tag`, epoch ms: when the resumer read the ending from the feed, and when the job ran again. */
  hops(tag: string): { readonly eventAt?: number; readonly runningAt?: number };
  /** How many times each task's job got past requireLogin(), by tag (exactly once is right). */
  readonly resumeCounts: ReadonlyMap<string, number>;
  /** How many feed entries the resumer read for each handoff, by handoff id. */
  readonly eventCounts: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export function startBenchAgent(options: {
  connection: Redis;
  prefix: string;
  client: BridgeClient;
  concurrency?: number;
  /** How long `resumed` waits before it gives up; default 30 s. */
  resumeTimeoutMs?: number;
}): BenchAgent {
  const resumeTimeoutMs = options.resumeTimeoutMs ?? 30_000;
  const resumedAt = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const failures = new Map<string, Error>();
  // Tasks are added with one attempt: a failed job is final, so its waiter hears at once.
  const failWaiters = new Map<string, (err: Error) => void>();
  const eventAt = new Map<string, number>(); // by handoff id
  const runningAt = new Map<string, number>(); // by tag: the latest start of its job
  const handoffOf = new Map<string, string>(); // tag → handoff id
  const resumeCounts = new Map<string, number>();
  const eventCounts = new Map<string, number>();
  const resumer = createLoginResumer({
    client: options.client,
    connection: options.connection,
    keyPrefix: `${options.prefix}:resumer`,
    agent: benchAgentId,
    onEvent: (event, { receivedAt }) => {
      eventAt.set(event.handoffId, receivedAt);
      eventCounts.set(event.handoffId, (eventCounts.get(event.handoffId) ?? 0) + 1);
    },
  });
  resumer.start();

  const worker = new Worker<BenchTask & Record<string, unknown>, { handoffId: string }>(
    benchAgentQueue,
    async (job, token) => {
      runningAt.set(job.data.tag, Date.now());
      const login = await requireLogin(
        job,
        token,
        {
          service: job.data.service,
          thread: job.data.thread,
          approvers: [...job.data.approvers],
          agent: { id: benchAgentId, correlationId: job.data.tag },
          // Each task measures a person's answer: no standing grant may answer it.
          reuse: 'never',
        },
        { client: options.client, resumer },
      );
      const at = Date.now();
      handoffOf.set(job.data.tag, login.handoffId);
      resumedAt.set(job.data.tag, at);
      resumeCounts.set(job.data.tag, (resumeCounts.get(job.data.tag) ?? 0) + 1);
      waiters.get(job.data.tag)?.(at);
      return { handoffId: login.handoffId };
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 100 },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    failures.set(job.data.tag, err);
    failWaiters.get(job.data.tag)?.(err);
  });
  worker.on('error', (err) => process.stderr.write(`bench agent worker error: ${err.message}\n`));
  const queue = new Queue<BenchTask>(benchAgentQueue, { connection: options.connection, prefix: options.prefix });

  return {
    queue,
    resumeCounts,
    eventCounts,
    resumed(tag) {
      const at = resumedAt.get(tag);
      if (at !== undefined) return Promise.resolve(at);
      const failed = failures.get(tag);
      if (failed) return Promise.reject(failed);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(failures.get(tag) ?? new Error(`agent task ${tag} did not resume within ${resumeTimeoutMs} ms`)),
          resumeTimeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          waiters.delete(tag);
          failWaiters.delete(tag);
        };
        waiters.set(tag, (t) => {
          done();
          resolve(t);
        });
        failWaiters.set(tag, (err) => {
          done();
          reject(err);
        });
      });
    },
    hops(tag) {
      const handoffId = handoffOf.get(tag);
      const event = handoffId === undefined ? undefined : eventAt.get(handoffId);
      const running = runningAt.get(tag);
      return {
        ...(event !== undefined ? { eventAt: event } : {}),
        ...(running !== undefined ? { runningAt: running } : {}),
      };
    },
    async close() {
      await worker.close();
      await resumer.close();
      await queue.close();
    },
  };
}
