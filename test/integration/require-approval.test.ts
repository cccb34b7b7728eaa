import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginResumer } from '../../src/client/login-resumer.js';
import { requireApproval } from '../../src/client/require-approval.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * requireApproval() (issue #13) on a queue whose Redis the bridge never sees: the job parks,
 * the resumer wakes it when people decide, and it gets the decision (or the error saying why not).
 */
interface Task {
  readonly thread: string;
  readonly expiresInMs?: number;
  readonly onTimeout?: 'expire' | 'deny';
}

describe('requireApproval parks the job and resumes it with the decision', () => {
  let bridge: TestBridge;
  let agentRedis: PrivateRedis;
  let queue: Queue<Task>;
  let worker: Worker;
  let resumer: ReturnType<typeof createLoginResumer>;
  const outcomes = new Map<string, { outcome?: string; error?: string; reason?: string; runs: number; at: number }>();

  beforeAll(async () => {
    bridge = await startTestBridge('req-approval');
    agentRedis = await startPrivateRedis();
    queue = new Queue<Task>('tasks', { connection: agentRedis.connect(), prefix: 'agent' });
    resumer = createLoginResumer({
      client: bridge.api,
      connection: agentRedis.connect(),
      agent: 'approval-agent',
      keyPrefix: 'agent:resumer',
      waitMs: 5_000,
    });
    resumer.start();
    worker = new Worker<Task & Record<string, unknown>>(
      'tasks',
      async (job: Job<Task & Record<string, unknown>>, token?: string) => {
        const runs = (outcomes.get(job.id!)?.runs ?? 0) + 1;
        try {
          const decision = await requireApproval(
            job,
            token,
            {
              thread: job.data.thread,
              agent: { id: 'approval-agent' },
              action: { title: 'Restart the payments service', risk: 'medium' },
              ...(job.data.expiresInMs ? { expiresInMs: job.data.expiresInMs } : {}),
              ...(job.data.onTimeout ? { onTimeout: job.data.onTimeout } : {}),
            },
            { client: bridge.api, resumer },
          );
          outcomes.set(job.id!, { outcome: decision.outcome, runs, at: Date.now() });
        } catch (err) {
          if ((err as Error).name === 'DelayedError') {
            outcomes.set(job.id!, { runs, at: Date.now() });
            throw err;
          }
          const e = err as { code?: string; reason?: string };
          outcomes.set(job.id!, { error: e.code, ...(e.reason ? { reason: e.reason } : {}), runs, at: Date.now() });
        }
      },
      { connection: agentRedis.connect(), prefix: 'agent', concurrency: 10 },
    );
  });
  afterAll(async () => {
    await worker?.close();
    await resumer?.close();
    await queue?.close();
    await bridge?.close();
    await agentRedis?.stop();
  });

  const posted = (thread: string) =>
    waitFor('the request in the thread', async () =>
      (await bridge.messages(thread)).some((m) => m.kind === 'bot' && m.text.startsWith('🛂')) ? true : undefined,
    );
  const finalOutcome = (id: string) =>
    waitFor('the job to get past requireApproval', async () => {
      const o = outcomes.get(id);
      return o && (o.outcome || o.error) ? o : undefined;
    });

  it('resumes with the decision when approved, promptly after the reply', async () => {
    const thread = freshThread('ra');
    const job = await queue.add('t', { thread });
    await posted(thread);
    const replied = Date.now();
    await bridge.reply(thread, 'alice', 'approve');
    const o = await finalOutcome(job.id!);
    expect(o).toMatchObject({ outcome: 'approved', runs: 2 });
    // Woken by the feed, not by the one-hour backstop.
    expect(o.at - replied).toBeLessThan(5_000);
  });

  it('throws ApprovalDeniedError with the reason', async () => {
    const thread = freshThread('rd');
    const job = await queue.add('t', { thread });
    await posted(thread);
    await bridge.reply(thread, 'bob', '/deny wrong maintenance window');
    expect(await finalOutcome(job.id!)).toMatchObject({ error: 'approval_denied', reason: 'wrong maintenance window' });
  });

  it('throws ApprovalExpiredError at a timeout that expires, ApprovalDeniedError "timed out" at one that denies', async () => {
    const a = await queue.add('t', { thread: freshThread('re'), expiresInMs: 800 });
    const b = await queue.add('t', { thread: freshThread('rt'), expiresInMs: 800, onTimeout: 'deny' });
    expect(await finalOutcome(a.id!)).toMatchObject({ error: 'approval_expired' });
    expect(await finalOutcome(b.id!)).toMatchObject({ error: 'approval_denied', reason: 'timed out' });
  });
});
