import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAgent } from '../helpers/agents.js';
import { runDriverNow } from '../helpers/driver-run.js';
import { botMessages, localReply } from '../helpers/local-replies.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

const minute = 60_000;

/** Escalation (issue #14): when nobody answers, more people are asked, where the step says. */
describe('escalation', () => {
  let bridge: TestBridge;
  let offsetMs = 0;
  beforeAll(async () => {
    bridge = await startTestBridge('escalation', { clock: { now: () => Date.now() + offsetMs } });
  });
  afterAll(async () => bridge.close());

  const bot = (thread: string, prefix: string) => botMessages(bridge, thread, prefix);
  const ask = async (escalateThread?: string) => {
    offsetMs = 0;
    const thread = freshThread('esc');
    const created = await bridge.api.createApproval({
      thread,
      agent: { id: 'esc-agent' },
      action: { title: 'Restart the database' },
      approvers: ['ann'],
      expiresInMs: 60 * minute,
      escalate: [{ afterMs: 10 * minute, approvers: ['olga'], ...(escalateThread ? { thread: escalateThread } : {}) }],
    });
    await waitFor('the request', async () => ((await bot(thread, '🛂')).length ? true : undefined));
    return { id: created.id, thread };
  };

  it('the new approver is told in both threads and may answer once escalated, not before', async () => {
    const oncall = freshThread('oncall');
    const { id, thread } = await ask(oncall);
    await bridge.bridge.sink(localReply(thread, 'olga', 'approve'));
    await waitFor('the refusal', async () => ((await bot(thread, '🚫')).length ? true : undefined));
    expect((await bridge.api.getApproval(id)).status).toBe('awaiting_human');

    offsetMs = 11 * minute;
    await runDriverNow(bridge, id);
    const [here] = await waitFor('the escalation notice', async () => {
      const found = await bot(thread, '⤴️');
      return found.length ? found : undefined;
    });
    expect(here!.text).toContain('olga may answer it now');
    expect(here!.text).toContain('ann can still answer too');
    const [there] = await waitFor('the notice in the on-call thread', async () => {
      const found = await bot(oncall, '⤴️');
      return found.length ? found : undefined;
    });
    expect(there!.text).toContain('olga: you are asked to help');
    expect(there!.text).toContain(`It waits in ${thread}`);
    // With a link back to the original thread's page (the local adapter's threadLink)…
    expect(there!.link).toBe(`${bridge.url}/threads/${thread.slice('local:'.length)}`);
    // …which only the notice elsewhere carries.
    expect(here!.link).toBeUndefined();
    expect((await bridge.api.getApproval(id)).approvers).toEqual(['ann', 'olga']);

    await bridge.bridge.sink(localReply(thread, 'olga', 'approve'));
    const decided = await waitFor('the decision', async () => (await bridge.api.getApproval(id)).decision ?? undefined);
    expect(decided).toMatchObject({ outcome: 'approved', by: [{ who: 'olga' }] });
    offsetMs = 30 * minute;
    await runDriverNow(bridge, id);
    expect(await bot(thread, '⤴️')).toHaveLength(1);
  });

  it('the original approver can still answer after the escalation', async () => {
    const { id, thread } = await ask();
    offsetMs = 11 * minute;
    await runDriverNow(bridge, id);
    await waitFor('the escalation notice', async () => ((await bot(thread, '⤴️')).length ? true : undefined));
    await bridge.bridge.sink(localReply(thread, 'ann', 'deny not now'));
    const decided = await waitFor('the decision', async () => (await bridge.api.getApproval(id)).decision ?? undefined);
    expect(decided).toMatchObject({ outcome: 'denied', by: [{ who: 'ann' }] });
  });

  it("refuses an escalation thread outside the agent's thread policy, before anything is written", async () => {
    const agent = await createTestAgent(bridge, `esc-policy-${randomBytes(3).toString('hex')}`, {
      threads: ['local:team-*'],
    });
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread: 'local:team-ops',
      action: { title: 'x' },
      escalate: [{ afterMs: minute, approvers: ['olga'], thread: 'local:elsewhere' }],
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('thread_not_allowed');
    expect(await agent.api.listHandoffs()).toHaveLength(0);
    const bad = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread: 'local:team-ops',
      action: { title: 'x' },
      escalate: [{ afterMs: minute, approvers: [] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('escalate.0.approvers');
  });
});

describe('escalation across a bridge restart', () => {
  it('the next bridge takes the step the first one scheduled', async () => {
    let offsetMs = 0;
    const shared = {
      prefix: randomPrefix('esc-rst'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
      clock: { now: () => Date.now() + offsetMs },
    };
    const first = await startTestBridge('escalation-restart-1', shared);
    const thread = freshThread('esc-rst');
    const created = await first.api.createApproval({
      thread,
      agent: { id: 'esc-rst-agent' },
      action: { title: 'Fail over' },
      approvers: ['ann'],
      escalate: [{ afterMs: 5 * minute, approvers: ['olga'] }],
    });
    await waitFor('the request', async () =>
      (await first.messages(thread)).some((m) => m.text.startsWith('🛂')) ? true : undefined,
    );
    await runDriverNow(first, created.id);
    await first.bridge.close();
    const second = await startTestBridge('escalation-restart-2', shared);
    try {
      offsetMs = 6 * minute;
      await runDriverNow(second, created.id);
      await waitFor('the escalation', async () =>
        (await second.messages(thread)).some((m) => m.text.startsWith('⤴️')) ? true : undefined,
      );
      expect((await second.api.getApproval(created.id)).approvers).toEqual(['ann', 'olga']);
    } finally {
      await second.close();
    }
  });
});
