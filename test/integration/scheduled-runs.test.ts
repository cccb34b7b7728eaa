import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createBridgeClient } from '../../src/client/bridge-client.js';
import { createLoginResumer } from '../../src/client/login-resumer.js';
import { requireLogin } from '../../src/client/require-login.js';
import { createTestAgent } from '../helpers/agents.js';
import { botTexts, requestIn } from '../helpers/agent.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freePort } from '../helpers/processes.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * requireLogin()'s default (`reuse: "agent"`) for runs of a job that come again and again:
 * runs that come while the first run's login waits park on that same login (one request in
 * the thread), across a bridge restart; all of them resume when it is answered; a run after
 * that gets the grant without parking at all.
 */
describe('scheduled runs with requireLogin: join the waiting login, then reuse the grant', () => {
  const bridges: TestBridge[] = [];
  let agentRedis: PrivateRedis | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    for (const b of bridges) await b.close().catch(() => undefined);
    await agentRedis?.stop();
  });

  it('runs join one login across a restart, all resume, and a later run does not park', async () => {
    const shared = {
      prefix: randomPrefix('sched-runs'),
      vaultKey: randomBytes(32),
      apiToken: `test-${randomBytes(16).toString('hex')}`,
      env: { PORT: String(await freePort()) }, // the agent's client keeps the bridge's URL
    };
    // The service outlives the bridge's restart (the bridge's own /sandbox would not).
    const service = await startSandboxServer();
    closers.push(service.close);
    const first = await startTestBridge('sched-runs-1', shared);
    bridges.push(first);
    const agent = await createTestAgent(first, 'nightly');
    const thread = freshThread('nightly');
    agentRedis = await startPrivateRedis();
    const connection = agentRedis.connect();
    const resumer = createLoginResumer({ client: agent.api, connection, keyPrefix: 'agent:resumer', waitMs: 2_000 });
    resumer.start();
    /** Per run: how many times its processor ran, and what it got at the end. */
    const runs = new Map<string, { calls: number; handoffId?: string; credentialId?: string; reused?: boolean }>();
    const worker = new Worker(
      'nightly',
      async (job: Job, token?: string) => {
        const entry = runs.get(job.id!) ?? { calls: 0 };
        runs.set(job.id!, { ...entry, calls: entry.calls + 1 });
        const login = await requireLogin(
          job,
          token,
          { service: service.url, thread, approvers: ['alice'] },
          { client: agent.api, resumer },
        );
        runs.set(job.id!, {
          calls: entry.calls + 1,
          handoffId: login.handoffId,
          credentialId: login.credentialId,
          reused: login.reused,
        });
      },
      { connection, prefix: 'agent', concurrency: 5 },
    );
    const queue = new Queue('nightly', { connection, prefix: 'agent' });
    closers.push(async () => {
      await worker.close();
      await resumer.close();
      await queue.close();
    });
    const parked = async (id: string) => waitFor(`run ${id} parked`, async () => (await queue.getJob(id))?.isDelayed());

    await queue.add('run', {}, { jobId: 'run-1' });
    const request = await requestIn(first, thread);
    await parked('run-1');
    await queue.add('run', {}, { jobId: 'run-2' });
    await parked('run-2');

    await first.bridge.close();
    const second = await startTestBridge('sched-runs-2', shared);
    bridges.push(second);
    await queue.add('run', {}, { jobId: 'run-3' });
    await parked('run-3');
    expect(await connection.hlen(`agent:resumer:waits:${request.handoffId}`)).toBe(3);

    await second.reply(thread, 'alice', await second.approve(request.url));
    const done = await waitFor('the three runs resumed', async () => {
      const all = ['run-1', 'run-2', 'run-3'].map((id) => runs.get(id));
      return all.every((r) => r?.credentialId) ? all : undefined;
    });
    for (const run of done) {
      expect(run).toMatchObject({ calls: 2, handoffId: request.handoffId, reused: false });
      expect(run!.credentialId).toBe(done[0]!.credentialId);
    }

    await queue.add('run', {}, { jobId: 'run-4' });
    const fourth = await waitFor('run 4', async () =>
      runs.get('run-4')?.credentialId ? runs.get('run-4') : undefined,
    );
    // Answered by the grant: it ran once, never parked.
    expect(fourth).toMatchObject({ calls: 1, reused: true, credentialId: done[0]!.credentialId });
    expect(fourth!.handoffId).not.toBe(request.handoffId);
    const asked = (await botTexts(second, thread)).filter((t) => /^Approve here: /m.test(t));
    expect(asked).toHaveLength(1);
  });

  /**
   * A queue `name` on the agent's Redis and a resumer (keys under `<name>:resumer`) that talks
   * to no bridge: for tests that call `resume` themselves.
   */
  async function resumerAlone(name: string) {
    agentRedis ??= await startPrivateRedis();
    const connection = agentRedis.connect();
    const queue = new Queue(name, { connection, prefix: 'agent' });
    const resumer = createLoginResumer({
      client: createBridgeClient({ baseUrl: 'http://127.0.0.1:9', apiToken: 'unused-here' }),
      connection,
      keyPrefix: `${name}:resumer`,
    });
    closers.push(async () => {
      await resumer.close();
      await queue.close();
    });
    return { connection, queue, resumer };
  }

  it('a job parked by an older resumer (one string per handoff) is still woken by the ending', async () => {
    const { connection, queue, resumer } = await resumerAlone('legacy');
    const job = await queue.add('run', {}, { delay: 3_600_000 });
    const handoffId = 'hf_0123456789abcdef01234567';
    await connection.set(
      `legacy:resumer:wait:${handoffId}`,
      JSON.stringify({ prefix: 'agent', queue: 'legacy', id: job.id }),
    );
    expect(await resumer.resume(handoffId)).toBe(true);
    expect(await (await queue.getJob(job.id!))!.isDelayed()).toBe(false);
    expect(await connection.exists(`legacy:resumer:wait:${handoffId}`)).toBe(0);
  });

  it('resume promotes a delayed job by id, keeps the record of one not delayed, and drops the record of one gone', async () => {
    const { connection, queue, resumer } = await resumerAlone('records');
    const park = (handoffId: string, jobId: string) =>
      resumer.watch(handoffId, { prefix: 'agent', queue: 'records', id: jobId }, Date.now() + 60_000);
    const record = (handoffId: string) => connection.exists(`records:resumer:waits:${handoffId}`);

    const delayed = await queue.add('run', {}, { delay: 3_600_000 });
    await park('hf_delayed', delayed.id!);
    expect(await resumer.resume('hf_delayed')).toBe(true);
    expect(await (await queue.getJob(delayed.id!))!.getState()).toBe('waiting');
    expect(await record('hf_delayed')).toBe(0);

    // Not parked yet (still waiting): untouched, and its record stays for the ending.
    const waiting = await queue.add('run', {}, { jobId: 'not-parked-yet' });
    await park('hf_waiting', waiting.id!);
    expect(await resumer.resume('hf_waiting')).toBe(false);
    expect(await (await queue.getJob(waiting.id!))!.getState()).toBe('waiting');
    expect(await record('hf_waiting')).toBe(1);

    // A job that is no more (done and removed): nothing to promote, and its record goes.
    await park('hf_gone', 'removed-long-ago');
    expect(await resumer.resume('hf_gone')).toBe(false);
    expect(await record('hf_gone')).toBe(0);
  });
});
