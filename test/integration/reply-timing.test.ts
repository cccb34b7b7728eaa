import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundJobId } from '../../src/queue/inbound-intake.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createKeys } from '../../src/store/keys.js';

/** Replies that arrive at awkward moments: while another answer is checked, or where nothing waits. */
describe('reply timing', () => {
  let bridge: TestBridge;
  const redis = connectTestRedis();
  beforeAll(async () => {
    bridge = await startTestBridge('reply-timing');
  });
  afterAll(async () => {
    await bridge.close();
    redis.disconnect();
  });

  const reply = (thread: string, text: string, id: string) => ({
    platform: 'local' as const,
    thread,
    author: { id: 'alice' },
    text,
    messageRef: { platform: 'local' as const, thread, id: `${thread.slice(6)}.${id}` },
    deliveryId: id,
    receivedAt: Date.now(),
  });

  it('holds a code that arrives while another answer is being checked, and uses it if that one was wrong', async () => {
    const thread = freshThread('busy');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'timing' },
    });
    const view = await waitFor('awaiting_human', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    const code = await bridge.approve(view.approvalUrl!);

    // Someone else's answer is being checked right now.
    const engine = bridge.bridge.engine;
    expect(
      (
        await engine.store.transition(created.id, {
          to: 'claiming',
          from: ['awaiting_human'],
          set: { claimedBy: 'in-another-reply' },
        })
      ).ok,
    ).toBe(true);
    const good = reply(thread, code, '00000000000000a1');
    expect(await bridge.bridge.sink(good)).toBe('accepted');
    const job = () => bridge.bridge.queues.inbound.getJob(inboundJobId(good));
    await waitFor('the reply deferred', async () => (await (await job())?.getState()) === 'delayed');
    expect((await bridge.api.getHandoff(created.id)).status).toBe('claiming');

    // That other answer was wrong: the claim is released, and the held reply finishes the login.
    await engine.store.transition(created.id, {
      to: 'awaiting_human',
      from: ['claiming'],
      set: { claimedBy: undefined, attempts: 1 },
    });
    await waitFor('completed', async () => (await bridge.api.getHandoff(created.id)).status === 'completed', 10_000);
    expect(bridge.sandbox!.state.successfulExchanges.get(view.approvalUrl!.split('/').pop()!)).toBe(1);
  });

  it('ignores replies in threads where no handoff is open, writing nothing', async () => {
    const thread = freshThread('chatter');
    const chatter = reply(thread, 'lunch at noon?', '00000000000000b2');
    const before = await bridge.bridge.queues.inbound.count();
    expect(await bridge.bridge.sink(chatter)).toBe('ignored');
    expect(await bridge.bridge.queues.inbound.count()).toBe(before);
    expect(await redis.exists(createKeys(bridge.prefix).seen('local', 'message', chatter.messageRef.id))).toBe(0);
    expect(await bridge.bridge.queues.inbound.getJob(inboundJobId(chatter))).toBeUndefined();
  });
});
