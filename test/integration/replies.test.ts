import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIn, botTexts, startTestAgent } from '../helpers/agent.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

const wrongCode = (n: number) => `aae_${String(n).repeat(48).slice(0, 48)}`;

describe('replies in a thread (real Redis, real BullMQ workers)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    bridge = await startTestBridge('replies');
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  const exchangesFor = (approvalUrl: string) =>
    bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;

  it('processes the same reply delivered three times exactly once: one exchange, one resume', async () => {
    const thread = freshThread('dup');
    const job = await agent.run(thread);
    const { url } = await approvalIn(bridge, thread);
    const code = await bridge.approve(url);
    const resumedBefore = agent.resumedCount();
    const reply = {
      platform: 'local' as const,
      thread,
      author: { id: 'alice', name: 'alice' },
      text: `finish code ${code}`,
      messageRef: { platform: 'local' as const, thread, id: `${thread.slice(6)}.feedfacefeedface` },
      deliveryId: 'delivery-1',
      receivedAt: Date.now(),
    };
    // A platform retry: same delivery id and message id, three times at once.
    const acks = await Promise.all([bridge.bridge.sink(reply), bridge.bridge.sink(reply), bridge.bridge.sink(reply)]);
    expect(acks.sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    // A redelivery with a new delivery id but the same platform message: still a duplicate.
    expect(await bridge.bridge.sink({ ...reply, deliveryId: 'delivery-2' })).toBe('duplicate');

    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result.status).toBe(200);
    // Give any stray duplicate time to have been processed, then count.
    await new Promise((r) => setTimeout(r, 300));
    expect(exchangesFor(url)).toBe(1);
    expect(agent.resumedCount() - resumedBefore).toBe(1);
    expect((await botTexts(bridge, thread)).filter((t) => t.startsWith('✅')).length).toBe(1);
  });

  it('refuses a reply from someone who is not an approver and changes nothing', async () => {
    const thread = freshThread('refuse');
    await agent.run(thread, ['alice']);
    const { url, handoffId } = await approvalIn(bridge, thread);
    const code = await bridge.approve(url);
    await bridge.reply(thread, 'mallory', code);

    const refusal = await waitFor('refusal', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('mallory, you cannot answer')),
    );
    expect(refusal).toContain('Only alice may answer.');
    const record = await bridge.api.getHandoff(handoffId);
    expect(record.status).toBe('awaiting_human');
    expect(record.attempts).toBe(0);
    expect(exchangesFor(url)).toBe(0);
    const audit = await bridge.bridge.engine.audit.recent(20, handoffId);
    expect(audit.find((e) => e.event === 'reply.refused')?.actor).toBe('mallory');

    // The real approver can still finish it with the same code.
    await bridge.reply(thread, 'alice', code);
    await waitFor('completion', async () => (await bridge.api.getHandoff(handoffId)).status === 'completed');
  });

  it('counts wrong codes and fails the handoff with too_many_attempts after five', async () => {
    const thread = freshThread('wrong');
    const job = await agent.run(thread, ['alice']);
    const { url, handoffId } = await approvalIn(bridge, thread);
    await bridge.approve(url);
    for (let i = 1; i <= 5; i++) {
      await bridge.reply(thread, 'alice', wrongCode(i));
      await waitFor(`attempt ${i} counted`, async () => {
        const r = await bridge.api.getHandoff(handoffId);
        return (r.attempts === i && r.status === 'awaiting_human') || r.status === 'failed';
      });
    }
    const record = await bridge.api.getHandoff(handoffId);
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('too_many_attempts');
    await expect(job.waitUntilFinished(agent.events, 10_000)).rejects.toThrow(/too_many_attempts/);
    // The agent learns of the ending from its feed, possibly before the thread's notice is posted.
    await waitFor('the failure notice', async () => (await botTexts(bridge, thread)).some((t) => t.startsWith('❌')));
    const texts = await botTexts(bridge, thread);
    expect(texts.filter((t) => t.startsWith('That code did not work')).length).toBe(4);
    expect(texts.some((t) => t.includes('attempt 4 of 5'))).toBe(true);
    expect(texts.at(-1)).toMatch(/^❌ The login to .* failed: 5 wrong codes were sent\./);
    expect(exchangesFor(url)).toBe(0);
  });

  it('hints to open the link when someone pastes the approval link back', async () => {
    const thread = freshThread('hint');
    await agent.run(thread);
    const { url, handoffId } = await approvalIn(bridge, thread);
    await bridge.reply(thread, 'alice', `is this it? <${url}>`);
    await waitFor('hint', async () =>
      (await botTexts(bridge, thread)).some((t) => t.startsWith('That is the approval link itself')),
    );
    expect((await bridge.api.getHandoff(handoffId)).status).toBe('awaiting_human');
  });

  it('ignores ordinary conversation in the thread', async () => {
    const thread = freshThread('chat');
    await agent.run(thread);
    const { handoffId } = await approvalIn(bridge, thread);
    const before = (await bridge.messages(thread)).length;
    await bridge.reply(thread, 'bob', 'I will get to this after lunch, meeting at 123 Main St');
    await new Promise((r) => setTimeout(r, 400));
    expect((await bridge.messages(thread)).length).toBe(before + 1);
    expect((await bridge.api.getHandoff(handoffId)).status).toBe('awaiting_human');
  });

  it('cancels through the API: the thread is told and the agent job resumes with LoginCancelledError', async () => {
    const thread = freshThread('cancel');
    const job = await agent.run(thread);
    const { handoffId } = await approvalIn(bridge, thread);
    const cancelled = await bridge.api.cancelHandoff(handoffId);
    expect(cancelled.status).toBe('cancelled');
    await expect(job.waitUntilFinished(agent.events, 10_000)).rejects.toThrow(/was cancelled/);
    await waitFor('cancel notice', async () =>
      (await botTexts(bridge, thread)).some((t) => t.includes('was cancelled by the agent API')),
    );
  });
});

describe('expiry and the background poll', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    // The sandbox advertises a 1 s poll interval, so the bridge's background poll is quick.
    bridge = await startTestBridge('poll', { sandbox: { pollIntervalSeconds: 1 } });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  it('expires a handoff nobody answers: status expired, a message in the thread, the agent told', async () => {
    const thread = freshThread('expire');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'expiring' },
      expiresInMs: 1_500,
    });
    const view = await waitFor(
      'expiry',
      async () => {
        const v = await bridge.api.getHandoff(created.id, { waitMs: 3_000, ifStatus: 'awaiting_human' });
        return ['expired', 'completed', 'failed'].includes(v.status) ? v : undefined;
      },
      10_000,
    );
    expect(view.status).toBe('expired');
    expect(view.error?.code).toBe('expired');
    await waitFor('expiry notice', async () =>
      (await botTexts(bridge, thread)).some((t) => t.startsWith('⌛ The login request')),
    );
  });

  it('tells a waiting agent job that its login expired', async () => {
    const thread = freshThread('expire-agent');
    const job = await agent.queue.add('task', {
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: [],
      agentId: 'a',
      expiresInMs: 1_200,
    });
    const { handoffId } = await approvalIn(bridge, thread);
    await expect(job.waitUntilFinished(agent.events, 10_000)).rejects.toThrow(/expired before anyone finished it/);
    expect((await bridge.api.getHandoff(handoffId)).status).toBe('expired');
  });

  it('finishes a handoff from the background poll when the human approved but never pasted the code', async () => {
    const thread = freshThread('poll');
    // No approvers named in a local thread: anyone there may answer, so anyone's approval at
    // the service counts too (with named approvers the service must name one: test/security).
    const job = await agent.run(thread, []);
    const { url } = await approvalIn(bridge, thread);
    await bridge.approve(url, 'quiet@example.com');
    const result = await job.waitUntilFinished(agent.events, 15_000);
    expect(result.status).toBe(200);
    expect(result.me).toMatchObject({ account: { email: 'quiet@example.com' } });
    expect(exchanges(bridge, url)).toBe(1);
    await waitFor('the success notice', async () =>
      (await botTexts(bridge, thread)).some((t) => t.startsWith('✅ Logged in')),
    );
  });
});

function exchanges(bridge: TestBridge, approvalUrl: string): number {
  return bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;
}
