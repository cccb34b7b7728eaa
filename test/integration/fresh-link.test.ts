import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxFreshLinks } from '../../src/engine/fresh-link.js';
import { botMessages, localReply } from '../helpers/local-replies.js';
import { randomPrefix } from '../helpers/redis.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/** `new link` (issue #14): a person asks for a fresh login link; the bridge starts the login again. */
describe('a fresh link on request', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startTestBridge('fresh-link', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
  });
  afterAll(async () => bridge.close());

  const waitingLogin = async (b: TestBridge = bridge, service = `${b.url}/sandbox`) => {
    const thread = freshThread('fresh');
    const created = await b.api.createHandoff({
      service,
      thread,
      agent: { id: 'fresh-agent' },
      approvers: ['carol'],
    });
    const view = await waitFor('awaiting_human', async () => {
      const v = await b.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    return { id: created.id, thread, url: view.approvalUrl! };
  };
  const linkChanged = (id: string, from: string, b: TestBridge = bridge) =>
    waitFor('a new link', async () => {
      const v = await b.api.getHandoff(id);
      return v.status === 'awaiting_human' && v.approvalUrl && v.approvalUrl !== from ? v.approvalUrl : undefined;
    });

  it('an approver gets a new link that works; someone else is refused', async () => {
    const { id, thread, url } = await waitingLogin();
    await bridge.bridge.sink(localReply(thread, 'mallory', 'new link'));
    await waitFor('the refusal', async () =>
      (await bridge.messages(thread)).some((m) => m.text.includes('you cannot answer')) ? true : undefined,
    );
    expect((await bridge.api.getHandoff(id)).approvalUrl).toBe(url);

    await bridge.bridge.sink(localReply(thread, 'carol', 'New link please'));
    const fresh = await linkChanged(id, url);
    await waitFor('the new instructions', async () =>
      (await botMessages(bridge, thread, '🔐')).some((m) => m.text.includes('A fresh link')) ? true : undefined,
    );
    const code = await bridge.approve(fresh);
    await bridge.bridge.sink(localReply(thread, 'carol', code));
    await waitFor('completed', async () =>
      (await bridge.api.getHandoff(id)).status === 'completed' ? true : undefined,
    );
  });

  it(`gives at most ${maxFreshLinks}, then says so`, async () => {
    const { id, thread } = await waitingLogin();
    let url = (await bridge.api.getHandoff(id)).approvalUrl!;
    for (let i = 0; i < maxFreshLinks; i++) {
      await bridge.bridge.sink(localReply(thread, 'carol', 'new link'));
      url = await linkChanged(id, url);
    }
    await bridge.bridge.sink(localReply(thread, 'carol', 'new link'));
    await waitFor('the refusal', async () =>
      (await bridge.messages(thread)).some((m) => m.text.includes('the most there is')) ? true : undefined,
    );
    const record = (await bridge.bridge.engine.store.get(id))!;
    expect(record.freshLinks).toBe(maxFreshLinks);
    expect(record.approvalUrl).toBe(url);
  });

  it('a request that arrives as the bridge stops is answered once, by the next bridge if need be', async () => {
    const shared = {
      prefix: randomPrefix('fresh-rst'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    };
    // The service outlives both bridges (the bridge's own sandbox would stop with the first).
    const service = await startSandboxServer();
    const first = await startTestBridge('fresh-restart-1', shared);
    const { id, thread, url } = await waitingLogin(first, service.url);
    await first.bridge.sink(localReply(thread, 'carol', 'new link'));
    await first.bridge.close();
    const second = await startTestBridge('fresh-restart-2', shared);
    try {
      await linkChanged(id, url, second);
      await waitFor('the new instructions', async () =>
        (await botMessages(second, thread, '🔐')).some((m) => m.text.includes('A fresh link')) ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect((await second.bridge.engine.store.get(id))!.freshLinks).toBe(1);
      expect((await botMessages(second, thread, '🔐')).filter((m) => m.text.includes('A fresh link'))).toHaveLength(1);
    } finally {
      await second.close();
      await service.close();
    }
  });
});
