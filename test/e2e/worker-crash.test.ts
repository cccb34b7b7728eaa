import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../helpers/environment.js';
import { handoffBin, spawnLogged, stopAllProcesses, type LoggedProcess } from '../helpers/processes.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The HTTP server (with the sandbox) runs in this process; the queue workers run in a real
 * `handoff worker` process that is killed with SIGKILL while handoffs wait for humans.
 */
describe('a worker process killed with SIGKILL while handoffs wait', () => {
  let bridge: TestBridge;
  const workers: LoggedProcess[] = [];

  const startWorker = (n: number) => {
    const proc = spawnLogged(`crash-worker-${n}`, [handoffBin, 'worker'], {
      REDIS_URL: redisUrl,
      HANDOFF_PREFIX: bridge.prefix,
      HANDOFF_VAULT_KEY: bridge.vaultKey.toString('base64'),
      HANDOFF_API_TOKEN: bridge.apiToken,
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    });
    workers.push(proc);
    return proc;
  };

  beforeAll(async () => {
    bridge = await startTestBridge('crash', { env: { HANDOFF_ROLE: 'server' } });
  });
  afterAll(async () => {
    await stopAllProcesses();
    await bridge.close();
  });

  it('loses nothing: after a restart every waiting handoff completes, each code exchanged once', async () => {
    const first = startWorker(1);
    const threads = [freshThread('crash'), freshThread('crash'), freshThread('crash')];
    const ids: string[] = [];
    for (const thread of threads) {
      ids.push(
        (
          await bridge.api.createHandoff({
            service: `${bridge.url}/sandbox`,
            thread,
            approvers: ['alice'],
            agent: { id: 'crash-test' },
          })
        ).id,
      );
    }
    const views = await waitFor(
      'all three waiting for a human',
      async () => {
        const all = await Promise.all(ids.map((id) => bridge.api.getHandoff(id)));
        return all.every((v) => v.status === 'awaiting_human') && all;
      },
      30_000,
    );
    // The approval messages were delivered by the worker before it dies.
    await waitFor('approval messages', async () =>
      (await Promise.all(threads.map((t) => bridge.messages(t)))).every((m) => m.length > 0),
    );

    first.child.kill('SIGKILL');
    const exit = await first.waitForExit(10_000);
    expect(exit.signal).toBe('SIGKILL');

    // Humans answer while no worker runs: the replies wait in the inbound queue.
    for (const [i, view] of views.entries()) {
      const code = await bridge.approve(view.approvalUrl!);
      expect((await bridge.reply(threads[i]!, 'alice', code)).status).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ids) expect((await bridge.api.getHandoff(id)).status).toBe('awaiting_human');
    expect(await bridge.bridge.queues.inbound.getWaitingCount()).toBe(3);

    startWorker(2);
    await waitFor(
      'all three completed after the restart',
      async () =>
        (await Promise.all(ids.map((id) => bridge.api.getHandoff(id)))).every((v) => v.status === 'completed'),
      30_000,
    );
    for (const view of views) {
      expect(bridge.sandbox!.state.successfulExchanges.get(view.approvalUrl!.split('/').pop()!)).toBe(1);
    }
    for (const thread of threads) {
      await waitFor('success notice', async () =>
        (await bridge.messages(thread)).some((m) => m.text.startsWith('✅ Logged in')),
      );
    }
  });
});
