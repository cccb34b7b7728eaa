import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { schedulerId, scheduledQueueName, type RunResult } from '../../examples/scheduled-job.js';
import { createTestAgent } from '../helpers/agents.js';
import { requestIn } from '../helpers/agent.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { repoRoot, spawnLogged, stopAllProcesses, type LoggedProcess } from '../helpers/processes.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * examples/scheduled-job.ts as the README runs it (an agent key, its own Redis), against a
 * test bridge: the first run asks and waits while later runs join it; once answered, runs
 * reuse the grant without asking; after a revoke the next run asks again in the same thread,
 * later runs join that, and once answered the schedule goes on reusing the new grant.
 */
describe('examples/scheduled-job.ts', () => {
  let bridge: TestBridge | undefined;
  let redis: PrivateRedis | undefined;
  afterAll(async () => {
    await stopAllProcesses();
    await bridge?.close();
    await redis?.stop();
  });

  const runsOf = (proc: LoggedProcess): RunResult[] =>
    proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as RunResult);

  it('asks once, joins the runs that fire meanwhile, reuses the grant, and asks again after a revoke', async () => {
    bridge = await startTestBridge('sched-example');
    redis = await startPrivateRedis();
    const agent = await createTestAgent(bridge, 'reporter', { threads: ['local:report-*'] });
    const thread = freshThread('report');
    const proc = spawnLogged(
      'scheduled-job',
      [
        '--import',
        'tsx',
        join(repoRoot, 'examples', 'scheduled-job.ts'),
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        thread,
        '--every',
        '1s',
      ],
      { HANDOFF_URL: bridge.url, HANDOFF_AGENT_KEY: agent.key, REDIS_URL: redis.url },
    );
    const agentRedis = redis.connect();
    /** Runs parked on one handoff, as the example's resumer records them in the agent's Redis. */
    const parkedOn = (handoffId: string) => agentRedis.hlen(`agent:resumer:waits:${handoffId}`);
    const alive = () => {
      if (proc.exit()) throw new Error(`the example exited:\n${proc.describe()}`);
    };
    const answer = async (nth: number) => {
      const request = await requestIn(bridge!, thread, nth, 30_000);
      // At least two runs wait for this one request: later runs joined instead of asking again.
      await waitFor(
        `two runs parked on request #${nth}`,
        async () => (alive(), (await parkedOn(request.handoffId)) >= 2),
        30_000,
      );
      await bridge!.reply(thread, 'alice', await bridge!.approve(request.url));
      return request.handoffId;
    };
    const asked = async () =>
      (await bridge!.messages(thread)).filter((m) => m.kind === 'bot' && /^Approve here: /m.test(m.text)).length;

    const first = await answer(1);
    const firstGrant = await waitFor(
      'runs that resumed, then runs that reused',
      () => {
        alive();
        const runs = runsOf(proc);
        const resumed = runs.filter((r) => r.handoffId === first && !r.reused);
        const reused = runs.filter((r) => r.reused);
        return resumed.length >= 2 && reused.length >= 2 ? { resumed, reused } : undefined;
      },
      30_000,
    );
    const credentialId = firstGrant.resumed[0]!.credentialId;
    for (const run of [...firstGrant.resumed, ...firstGrant.reused]) {
      expect(run).toMatchObject({ credentialId, status: 200, me: { account: { email: 'alice@example.com' } } });
    }
    expect(new Set(firstGrant.reused.map((r) => r.handoffId)).size).toBe(firstGrant.reused.length);
    expect(await asked()).toBe(1);

    await agent.api.revokeCredential(credentialId);
    const second = await answer(2);
    expect(second).not.toBe(first);
    const secondGrant = await waitFor(
      'runs on the second login, then reuse of it',
      () => {
        alive();
        const runs = runsOf(proc);
        const resumed = runs.filter((r) => r.handoffId === second);
        const reused = runs.filter((r) => r.reused && r.credentialId !== credentialId);
        return resumed.length >= 2 && reused.length >= 1 ? { resumed, reused } : undefined;
      },
      30_000,
    );
    const newCredential = secondGrant.resumed[0]!.credentialId;
    expect(newCredential).not.toBe(credentialId);
    expect(secondGrant.reused.every((r) => r.credentialId === newCredential && r.status === 200)).toBe(true);
    expect(await asked()).toBe(2);
    // The schedule itself is still there, in the agent's Redis.
    expect(await agentRedis.exists(`agent:${scheduledQueueName}:repeat:${schedulerId}`)).toBe(1);
    agentRedis.disconnect();

    proc.child.kill('SIGTERM');
    expect((await proc.waitForExit(15_000)).code, proc.describe()).toBe(0);
  });
});
