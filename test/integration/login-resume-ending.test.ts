import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLoginResumer, type LoginResumer } from '../../src/client/login-resumer.js';
import { requireLogin } from '../../src/client/require-login.js';
import { approvalIn } from '../helpers/agent.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The run of a job its resumer woke takes the completed login from the feed entry the resumer
 * read (credential id, scopes, reused) and makes no `GET /v1/handoffs/:id`; a run this
 * process' resumer did not wake (another process' did), or an ending without a credential,
 * reads the handoff as before. Requests are counted where the bridge logs them.
 */
interface Task {
  readonly thread: string;
}
interface Outcome {
  readonly handoffId?: string;
  readonly credentialId?: string;
  readonly scopes?: readonly string[];
  readonly reused?: boolean;
  readonly tokenLength?: number;
  readonly error?: string;
}

const agentId = 'ending-agent';
const queueName = 'ending-tasks';
const keyPrefix = 'agent:resumer';

describe('requireLogin after a resume uses the ending its resumer read', () => {
  let bridge: TestBridge;
  let agentRedis: PrivateRedis;
  let queue: Queue<Task>;
  const outcomes = new Map<string, Outcome>();
  const running: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    bridge = await startTestBridge('resume-ending');
    agentRedis = await startPrivateRedis();
    queue = new Queue<Task>(queueName, { connection: agentRedis.connect(), prefix: 'agent' });
  });
  afterEach(async () => {
    for (const one of running.splice(0)) await one.close();
  });
  afterAll(async () => {
    await queue.close();
    await bridge.close();
    await agentRedis.stop();
  });

  /** GET /v1/handoffs/:id requests the bridge answered, from its request log. */
  const reads = (handoffId: string) =>
    bridge.logs.filter((line) => {
      const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string };
      return entry.msg === 'request' && entry.method === 'GET' && entry.path === `/v1/handoffs/${handoffId}`;
    }).length;

  const resumerOf = (follow: boolean): LoginResumer => {
    const resumer = createLoginResumer({
      client: bridge.api,
      connection: agentRedis.connect(),
      agent: agentId,
      keyPrefix,
      waitMs: 5_000,
    });
    if (follow) resumer.start();
    running.push(resumer);
    return resumer;
  };

  /** A worker whose jobs log in through `resumer`, then fetch the token once. */
  const workerWith = (resumer: LoginResumer) => {
    const worker = new Worker<Task>(
      queueName,
      async (job: Job<Task>, token?: string) => {
        try {
          const login = await requireLogin(
            job,
            token,
            {
              service: `${bridge.url}/sandbox`,
              thread: job.data.thread,
              approvers: ['alice'],
              agent: { id: agentId },
              reuse: 'never',
              expiresInMs: 600_000,
            },
            { client: bridge.api, resumer },
          );
          const { handoffId, credentialId, scopes, reused } = login;
          const tokenLength = (await login.accessToken()).length;
          outcomes.set(job.id!, { handoffId, credentialId, scopes, reused, tokenLength });
        } catch (err) {
          if ((err as Error).name === 'DelayedError') throw err;
          outcomes.set(job.id!, { error: (err as { code?: string }).code ?? (err as Error).message });
        }
      },
      { connection: agentRedis.connect(), prefix: 'agent' },
    );
    running.unshift(worker); // closed before the resumers
  };

  async function parkedTask(thread: string) {
    const job = await queue.add('task', { thread });
    const approval = await approvalIn(bridge, thread);
    await waitFor(`job ${job.id} parked`, async () => (await queue.getJob(job.id!))?.isDelayed());
    return { job, ...approval };
  }

  async function complete(thread: string, url: string) {
    await bridge.reply(thread, 'alice', `code: ${await bridge.approve(url)}`);
  }

  it('a job woken by its own resumer gets the credential without reading the handoff again', async () => {
    const resumer = resumerOf(true);
    workerWith(resumer);
    const thread = freshThread('ending-own');
    const { job, handoffId, url } = await parkedTask(thread);
    await complete(thread, url);
    const outcome = await waitFor('the job resumed', async () => outcomes.get(job.id!));
    // Only the read right after parking (park() reads the handoff once more); none on the run.
    const count = reads(handoffId);
    const view = await bridge.api.getHandoff(handoffId);
    expect(count).toBe(1);
    expect(outcome).toEqual({
      handoffId,
      credentialId: view.credential!.id,
      scopes: view.credential!.scopes,
      reused: false,
      tokenLength: expect.any(Number),
    });
    expect(outcome.tokenLength).toBeGreaterThan(0);
    // Used once, then dropped.
    expect(resumer.ending!(handoffId)).toBeUndefined();
  });

  it("a job another process' resumer woke reads the handoff, as before", async () => {
    // This worker's resumer follows nothing; a resumer elsewhere (same agent Redis) wakes the job.
    workerWith(resumerOf(false));
    resumerOf(true);
    const thread = freshThread('ending-other');
    const { job, handoffId, url } = await parkedTask(thread);
    await complete(thread, url);
    const outcome = await waitFor('the job resumed', async () => outcomes.get(job.id!));
    const count = reads(handoffId);
    const view = await bridge.api.getHandoff(handoffId);
    expect(outcome).toMatchObject({ handoffId, credentialId: view.credential!.id, reused: false });
    expect(count).toBe(2);
  });

  it('an ending without a credential is not kept: the run reads the handoff and reports it', async () => {
    const resumer = resumerOf(true);
    workerWith(resumer);
    const thread = freshThread('ending-cancel');
    const { job, handoffId } = await parkedTask(thread);
    await bridge.api.cancelHandoff(handoffId);
    const outcome = await waitFor('the job resumed', async () => outcomes.get(job.id!));
    expect(outcome).toEqual({ error: 'login_cancelled' });
    expect(reads(handoffId)).toBe(2);
  });
});
