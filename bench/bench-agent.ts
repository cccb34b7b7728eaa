import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { BridgeClient } from '../src/client/bridge-client.js';
import { requireLogin } from '../src/client/require-login.js';

/**
 * An agent worker like examples/agent-worker.ts, except that right after requireLogin()
 * returns it records Date.now() instead of calling the service: that moment is "the agent
 * job resumed". Each task is tagged so the bench can match resumes to replies.
 */
export interface BenchTask {
  readonly tag: string;
  readonly service: string;
  readonly thread: string;
  readonly approvers: readonly string[];
}

export const benchAgentQueue = 'bench-agent';

export interface BenchAgent {
  readonly queue: Queue<BenchTask>;
  /** Resolves with the resume time (epoch ms) of the task tagged `tag`. */
  resumed(tag: string): Promise<number>;
  close(): Promise<void>;
}

export function startBenchAgent(options: { connection: ConnectionOptions; prefix: string; client: BridgeClient; concurrency?: number }): BenchAgent {
  const resumedAt = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const failures = new Map<string, Error>();

  const worker = new Worker<BenchTask & Record<string, unknown>, { handoffId: string }>(
    benchAgentQueue,
    async (job, token) => {
      const login = await requireLogin(
        job,
        token,
        { service: job.data.service, thread: job.data.thread, approvers: [...job.data.approvers], agent: { id: 'bench-agent', correlationId: job.data.tag } },
        { client: options.client },
      );
      const at = Date.now();
      resumedAt.set(job.data.tag, at);
      waiters.get(job.data.tag)?.(at);
      return { handoffId: login.handoffId };
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 100 },
  );
  worker.on('failed', (job, err) => {
    if (job) failures.set(job.data.tag, err);
  });
  worker.on('error', (err) => process.stderr.write(`bench agent worker error: ${err.message}\n`));
  const queue = new Queue<BenchTask>(benchAgentQueue, { connection: options.connection, prefix: options.prefix });

  return {
    queue,
    resumed(tag) {
      const at = resumedAt.get(tag);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(failures.get(tag) ?? new Error(`agent task ${tag} did not resume within 30 s`)), 30_000);
        waiters.set(tag, (t) => {
          clearTimeout(timer);
          waiters.delete(tag);
          resolve(t);
        });
      });
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
