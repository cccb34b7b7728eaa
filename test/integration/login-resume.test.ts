import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient, EventsQuery } from '../../src/client/bridge-client.js';
import { createLoginResumer, type LoginResumer, type LoginWaits } from '../../src/client/login-resumer.js';
import type { FeedEventView } from '../../src/core/wire.js';
import { requireLogin } from '../../src/client/require-login.js';
import { approvalIn } from '../helpers/agent.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * requireLogin() on a queue whose Redis the bridge never sees: the job parks as a delayed job
 * in the agent's own Redis, and the resumer (following the agent's feed over HTTP) wakes it.
 * What the issue asks of it: prompt, durable across a worker that was down, at the latest at
 * expiry when nothing follows the feed, and exactly once with several workers.
 */
interface Task {
  readonly thread: string;
  readonly expiresInMs?: number;
}

const agentId = 'resume-agent';
const queueName = 'tasks';

describe('requireLogin resumes over HTTP, with the agent on its own Redis', () => {
  let bridge: TestBridge;
  let agentRedis: PrivateRedis;
  let queue: Queue<Task>;
  /** Per job id: how many times the job got past requireLogin, and what it got. */
  const outcomes = new Map<string, Array<{ credentialId?: string; error?: string; at: number }>>();
  const agents: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    bridge = await startTestBridge('resume');
    agentRedis = await startPrivateRedis();
    queue = new Queue<Task>(queueName, { connection: agentRedis.connect(), prefix: 'agent' });
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close();
  });
  afterAll(async () => {
    await queue.close();
    await bridge.close();
    await agentRedis.stop();
  });

  /** A client whose feed requests are recorded (what `after` each one sent). */
  const recordingClient = (afters: Array<string | undefined>): BridgeClient => ({
    ...bridge.api,
    events: (query?: EventsQuery) => {
      afters.push(query?.after);
      return bridge.api.events(query);
    },
  });

  /** One agent worker process: a BullMQ worker and (unless `follow` is false) a running resumer. */
  function startAgent(
    options: {
      follow?: boolean;
      client?: BridgeClient;
      waits?: (resumer: LoginResumer) => LoginWaits;
      onEvent?: (event: FeedEventView, outcome: { promoted: boolean }) => void;
    } = {},
  ) {
    const connection: Redis = agentRedis.connect();
    const client = options.client ?? bridge.api;
    const resumer = createLoginResumer({
      client,
      connection,
      agent: agentId,
      keyPrefix: 'agent:resumer',
      waitMs: 5_000,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    if (options.follow !== false) resumer.start();
    const waits = options.waits?.(resumer) ?? resumer;
    const worker = new Worker<Task & Record<string, unknown>>(
      queueName,
      async (job: Job<Task & Record<string, unknown>>, token?: string) => {
        const record = (entry: { credentialId?: string; error?: string }) => {
          const list = outcomes.get(job.id!) ?? [];
          list.push({ ...entry, at: Date.now() });
          outcomes.set(job.id!, list);
        };
        try {
          const login = await requireLogin(
            job,
            token,
            {
              service: `${bridge.url}/sandbox`,
              thread: job.data.thread,
              approvers: ['alice'],
              agent: { id: agentId },
              // These tests are about parking and waking: a person answers each login.
              reuse: 'never',
              ...(job.data.expiresInMs ? { expiresInMs: job.data.expiresInMs } : {}),
            },
            { client, resumer: waits },
          );
          record({ credentialId: login.credentialId });
        } catch (err) {
          if ((err as Error).name === 'DelayedError') throw err;
          record({ error: (err as { code?: string }).code ?? (err as Error).message });
        }
      },
      { connection, prefix: 'agent', concurrency: 20 },
    );
    const agent = {
      resumer,
      worker,
      async close() {
        await worker.close();
        await resumer.close();
      },
    };
    agents.push(agent);
    return agent;
  }

  /** Queues a task and waits until its job is parked; returns the job and its handoff. */
  async function parkedTask(task: Task) {
    const job = await queue.add('task', task);
    const approval = await approvalIn(bridge, task.thread);
    await waitFor(`job ${job.id} parked`, async () => (await queue.getJob(job.id!))?.isDelayed());
    return { job, ...approval };
  }

  async function complete(thread: string, url: string): Promise<number> {
    const code = await bridge.approve(url);
    await bridge.reply(thread, 'alice', `code: ${code}`);
    return (await waitFor('the handoff completed', async () => {
      const views = await bridge.api.listHandoffs({ limit: 50 });
      return views.find((v) => v.thread === thread && v.status === 'completed')?.completedAt ?? undefined;
    }))!;
  }

  it('wakes the parked job as soon as its handoff completes, well before the expiry backstop', async () => {
    startAgent();
    const thread = freshThread('prompt');
    const { job, url } = await parkedTask({ thread, expiresInMs: 600_000 });
    const completedAt = await complete(thread, url);
    const [outcome] = await waitFor('the job resumed', async () => outcomes.get(job.id!));
    expect(outcome!.credentialId).toMatch(/^cr_/);
    expect(outcome!.at - completedAt).toBeLessThan(5_000);
  });

  it('a worker that was down when the handoff ended resumes the job from its stored cursor when it is back', async () => {
    const thread = freshThread('down');
    const first = startAgent();
    const { job, url } = await parkedTask({ thread, expiresInMs: 600_000 });
    // The resumer has read the feed at least once, so its cursor is stored in the agent's Redis.
    const stored = await waitFor(
      'a stored cursor',
      async () => (await agentRedis.connect().get('agent:resumer:cursor')) ?? undefined,
    );
    await first.close();

    const completedAt = await complete(thread, url);
    await new Promise((r) => setTimeout(r, 300));
    expect(outcomes.get(job.id!)).toBeUndefined(); // nothing runs while the worker is down
    expect(await (await queue.getJob(job.id!))!.isDelayed()).toBe(true);

    const afters: Array<string | undefined> = [];
    const restartedAt = Date.now();
    startAgent({ client: recordingClient(afters) });
    const [outcome] = await waitFor('the job resumed after the restart', async () => outcomes.get(job.id!));
    expect(outcome!.credentialId).toMatch(/^cr_/);
    expect(outcome!.at - restartedAt).toBeLessThan(5_000);
    expect(outcome!.at).toBeGreaterThan(completedAt);
    // It continued from where the stopped worker left off, not from the start of the feed.
    expect(afters[0]).toBe(stored);
  });

  it('without a resumer the job still runs at the expiry, and requireLogin reports the outcome: completed or expired', async () => {
    startAgent({ follow: false });
    const completedThread = freshThread('nofollow-done');
    const expiredThread = freshThread('nofollow-exp');
    const done = await parkedTask({ thread: completedThread, expiresInMs: 4_000 });
    const expired = await parkedTask({ thread: expiredThread, expiresInMs: 2_000 });
    await complete(completedThread, done.url);

    const [completedOutcome] = await waitFor(
      'the completed one resumed',
      async () => outcomes.get(done.job.id!),
      20_000,
    );
    expect(completedOutcome!.credentialId).toMatch(/^cr_/);
    // Not before its backstop: nothing followed the feed.
    const doneView = await bridge.api.getHandoff(done.handoffId);
    expect(completedOutcome!.at).toBeGreaterThanOrEqual(doneView.expiresAt);

    const [expiredOutcome] = await waitFor(
      'the expired one resumed',
      async () => outcomes.get(expired.job.id!),
      20_000,
    );
    expect(expiredOutcome!.error).toBe('login_expired');
    expect((await bridge.api.getHandoff(expired.handoffId)).status).toBe('expired');
  });

  it('with two workers and two resumers, each job runs past requireLogin exactly once', async () => {
    // Both resumers read every ending; per handoff, exactly one of them promotes the job.
    const seen: Array<{ resumer: number; handoffId: string; promoted: boolean }> = [];
    for (const i of [0, 1])
      startAgent({ onEvent: (event, { promoted }) => seen.push({ resumer: i, handoffId: event.handoffId, promoted }) });
    const tasks = await Promise.all(
      Array.from({ length: 6 }, (_, i) => parkedTask({ thread: freshThread(`twice-${i}`), expiresInMs: 600_000 })),
    );
    await Promise.all(tasks.map((t) => complete(t.job.data.thread, t.url)));
    for (const t of tasks) await waitFor(`job ${t.job.id} resumed`, async () => outcomes.get(t.job.id!));
    await waitFor('both resumers saw every ending', () =>
      tasks.every((t) => seen.filter((s) => s.handoffId === t.handoffId).length === 2),
    );
    await new Promise((r) => setTimeout(r, 500)); // a second run, if any, would land by now
    for (const t of tasks) {
      expect(outcomes.get(t.job.id!)!.map((o) => Boolean(o.credentialId))).toEqual([true]);
      expect(seen.filter((s) => s.handoffId === t.handoffId && s.promoted)).toHaveLength(1);
    }
  });

  it('an ending that comes before the job is parked is not lost: the job promotes itself', async () => {
    // The handoff is cancelled, and the resumer has already read that ending (finding no parked
    // job to promote), in the moment between recording the wait and parking the job.
    const readers = new Map<string, (promoted: boolean) => void>();
    let resumerPromoted: boolean | undefined;
    startAgent({
      onEvent: (event, { promoted }) => readers.get(event.handoffId)?.(promoted),
      waits: (resumer) => ({
        forget: (id) => resumer.forget(id),
        async watch(handoffId, job, untilMs) {
          await resumer.watch(handoffId, job, untilMs);
          const read = new Promise<boolean>((resolve) => readers.set(handoffId, resolve));
          await bridge.api.cancelHandoff(handoffId);
          resumerPromoted = await read;
        },
      }),
    });
    const thread = freshThread('early');
    const job = await queue.add('task', { thread, expiresInMs: 600_000 });
    const [outcome] = await waitFor('the job resumed', async () => outcomes.get(job.id!), 10_000);
    expect(resumerPromoted).toBe(false); // the resumer came too early: nothing was parked yet
    expect(outcome!.error).toBe('login_cancelled');
  });
});
