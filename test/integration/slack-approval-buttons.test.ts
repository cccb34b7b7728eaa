import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { audited, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { slackApprovalClicks } from '../helpers/slack-approval-clicks.js';
import { alice, bob, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Approve and Deny buttons on a Slack approval request (issue #13), clicked through the real
 * bridge (signed interactivity requests, real queues on real Redis, the real WebClient against
 * the fake Slack). A click is the clicker's vote on the same path as a text reply; what concerns
 * the clicker alone comes back to them as an ephemeral message.
 */
describe('Slack approval buttons over the Events API', () => {
  let h: SlackTestBridge;
  let agent: TestAgent;
  let c: ReturnType<typeof slackApprovalClicks>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-approval-buttons');
    agent = await createTestAgent(h.bridge, 'slack-buttons-agent');
    c = slackApprovalClicks(h, agent, 'http');
  });
  afterAll(async () => h?.close());

  const botTexts = (thread: string) => h.botTexts(thread).join('\n');
  const votesBy = async (id: string, who: string) =>
    (await h.bridge.bridge.engine.audit.recent(2_000)).filter(
      (e) => e.handoffId === id && e.event === 'approval.vote' && e.actor === who,
    );

  it('puts Approve and Deny on the request; an Approve click completes it as the clicker', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    const actions = (message.blocks as Array<Record<string, any>>).find((b) => b.type === 'actions')!;
    expect(actions.elements.map((e: any) => [e.action_id, e.text.text, e.value])).toEqual([
      ['handoff_approve', 'Approve', id],
      ['handoff_deny', 'Deny', id],
    ]);

    const res = await c.send(c.clickOf('approve', message, bob));
    expect(res).toEqual({ status: 200, body: undefined });
    const done = await c.settled(id);
    expect(done).toMatchObject({ status: 'completed', decision: { outcome: 'approved', by: [{ who: bob.id }] } });
    await waitFor('the settled notice', () => (/✅ Approved by/.test(botTexts(thread)) ? true : undefined));
    expect(botTexts(thread)).toContain(`<@${bob.id}>`);
  });

  it('opens a modal on Deny; its submission denies with the reason, shown escaped', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    const hostile = '<!channel> *urgent* <https://evil.example/|click here> `x`\nsecond line &amp; <@U0MALLORY1>';
    const ack = await c.denyWithModal(message, alice, hostile);
    expect(ack).toEqual({ status: 200, body: { response_action: 'clear' } });

    const done = await c.settled(id);
    expect(done.decision).toMatchObject({ outcome: 'denied', by: [{ who: alice.id }] });
    expect(done.decision.reason).toContain('<!channel>');
    const denied = await waitFor('the denial in the thread', () => {
      const t = parseSlackThread(thread);
      return h.slack.state.thread(t.channel, t.threadTs).find((m) => m.botId && m.text.includes('Denied by'));
    });
    // Raw, as Slack receives it: no mention, ping or link can open from the reason.
    const raw = JSON.stringify(denied.blocks) + denied.text;
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<https://evil.example/');
    expect(raw).not.toContain('<@U0MALLORY1>');
    expect(raw).toContain('&lt;!channel&gt;');
    expect(shownText(denied)).toContain('second line');
  });

  it('a deny without a reason is a deny', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    await c.denyWithModal(await c.requestMessage(thread, id), alice, null);
    const done = await c.settled(id);
    expect(done.decision).toMatchObject({ outcome: 'denied', by: [{ who: alice.id }] });
    expect(done.decision.reason ?? undefined).toBeUndefined();
  });

  it('refuses privately a click by someone who may not decide, and counts nothing', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { approvers: [alice.id], requestedBy: bob.id });
    const message = await c.requestMessage(thread, id);
    await c.send(c.clickOf('approve', message, mallory));
    const refusal = await c.answerTo(thread, mallory, /may not decide/);
    expect(shownText(refusal)).toContain('they are not among those who may decide');
    // The requester is no approver of their own request, whatever they click.
    await c.denyWithModal(message, bob, 'not me');
    await c.answerTo(thread, bob, /nobody approves their own request/);

    const view = await c.view(id);
    expect(view).toMatchObject({ status: 'awaiting_human', votes: { approve: [], deny: [] } });
    expect(botTexts(thread)).not.toMatch(/may not decide/);
    const refused = await audited(h.bridge, (e) => e.handoffId === id && e.event === 'approval.refused');
    expect(refused.map((e) => [e.actor, e.detail?.code]).sort()).toEqual([
      [bob.id, 'self_approval'],
      [mallory.id, 'not_an_approver'],
    ]);
    // The named approver still decides.
    await c.send(c.clickOf('approve', message, alice));
    expect((await c.settled(id)).decision).toMatchObject({ outcome: 'approved', by: [{ who: alice.id }] });
  });

  it('answers a flood of clicks by one person once, and counts none of them', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { approvers: [alice.id] });
    const message = await c.requestMessage(thread, id);
    await Promise.all(Array.from({ length: 20 }, () => c.send(c.clickOf('approve', message, mallory))));
    await waitFor('every click refused', async () => {
      const refused = (await h.bridge.bridge.engine.audit.recent(2_000)).filter(
        (e) => e.handoffId === id && e.event === 'approval.refused' && e.actor === mallory.id,
      );
      return refused.length === 20 ? true : undefined;
    });
    await c.answerTo(thread, mallory, /may not decide/);
    // The approver's click still goes through at once, not behind 20 queued answers.
    await c.send(c.clickOf('approve', message, alice));
    expect((await c.settled(id)).decision).toMatchObject({ outcome: 'approved', by: [{ who: alice.id }] });
    await waitFor('the settled notice', () => (/✅ Approved by/.test(botTexts(thread)) ? true : undefined));
    expect(c.answersTo(thread, mallory, /may not decide/)).toHaveLength(1);
  });

  it('answers a click after the decision privately with who decided', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    await h.reply(thread, alice.id, 'approve');
    await c.settled(id);
    await waitFor('the settled notice', () => (/✅ Approved by/.test(botTexts(thread)) ? true : undefined));
    const before = botTexts(thread);

    await c.send(c.clickOf('approve', message, bob));
    const answer = await c.answerTo(thread, bob, /already approved by/);
    expect(answer.text).toContain(`<@${alice.id}>`);
    await c.denyWithModal(message, mallory, 'too late?');
    await c.answerTo(thread, mallory, /already approved by/);
    expect((await c.view(id)).decision).toMatchObject({ outcome: 'approved', by: [{ who: alice.id }] });
    expect(botTexts(thread)).toBe(before);
  });

  it('answers a click on an expired request privately, and decides nothing', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { expiresInMs: 1_500 });
    const message = await c.requestMessage(thread, id);
    expect((await c.settled(id)).status).toBe('expired');
    await c.send(c.clickOf('approve', message, bob));
    await c.answerTo(thread, bob, /already expired/);
    expect(await c.view(id)).toMatchObject({ status: 'expired', decision: null, votes: { approve: [] } });
  });

  it('counts a replayed payload once; a second click is told privately its vote counts already', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { quorum: 2 });
    const message = await c.requestMessage(thread, id);
    const click = c.clickOf('approve', message, alice);
    expect((await c.send(click)).status).toBe(200);
    expect((await c.send(click)).status).toBe(200);
    await waitFor('alice counted', async () => ((await c.view(id)).votes.approve.length === 1 ? true : undefined));

    await c.send(c.clickOf('approve', message, alice));
    await c.answerTo(thread, alice, /counted already/);
    await new Promise((r) => setTimeout(r, 300));
    // One vote counted, one repeated click; the replay never reached the engine.
    expect((await votesBy(id, alice.id)).map((e) => e.detail?.result).sort()).toEqual(['counted', 'repeated']);
    expect((await c.view(id)).status).toBe('awaiting_human');
  });

  it('refuses a stale or wrongly signed click with 401 and counts nothing', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    const stale = await c.send(c.clickOf('approve', message, alice), {
      timestampSec: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    const forged = await c.send(c.clickOf('approve', message, alice), { signWith: 'notTheSigningSecret0000000000000' });
    expect(forged.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(await c.view(id)).toMatchObject({ status: 'awaiting_human', votes: { approve: [] } });
  });

  it('takes no vote from a value naming another channel’s approval, nor from a malformed value', async () => {
    const elsewhere = h.newThread();
    const target = await c.ask(elsewhere, { approvers: [mallory.id] });
    await c.requestMessage(elsewhere, target);
    const here = h.newThread();
    const own = await c.ask(here);
    const message = await c.requestMessage(here, own);

    await c.send(c.clickOf('approve', message, mallory, target));
    await audited(
      h.bridge,
      (e) => e.handoffId === target && e.event === 'reply.refused' && e.detail?.code === 'not_this_thread',
    );
    for (const value of [`${target}x!`, JSON.stringify({ handoffId: target }), '', 'hf_', 'hf_0000nosuchhandoff'])
      expect((await c.send(c.clickOf('approve', message, mallory, value))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await c.view(target)).toMatchObject({ status: 'awaiting_human', votes: { approve: [] } });
    expect(await c.view(own)).toMatchObject({ status: 'awaiting_human', votes: { approve: [] } });
  });

  it('settles once when two people click at the same moment; the other hears who decided', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    await Promise.all([c.send(c.clickOf('approve', message, alice)), c.send(c.clickOf('approve', message, bob))]);
    const done = await c.settled(id);
    expect(done.decision.by).toHaveLength(1);
    const winner = done.decision.by[0].who === alice.id ? alice : bob;
    const loser = winner === alice ? bob : alice;
    await c.answerTo(thread, loser, /already approved by/);
    const settledEntries = await audited(h.bridge, (e) => e.handoffId === id && e.event === 'approval.settled');
    expect(settledEntries).toHaveLength(1);
    // One settled notice, and the request itself edited in place to the outcome.
    const settledTexts = () => h.botTexts(thread).filter((t) => t.startsWith('✅'));
    await waitFor('the request edited to the outcome', () => (settledTexts().length >= 2 ? true : undefined));
    expect(settledTexts()).toHaveLength(2);
  });
});

describe('Slack approval buttons over Socket Mode', () => {
  let h: SlackTestBridge;
  let c: ReturnType<typeof slackApprovalClicks>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-approval-socket', { socketMode: true });
    c = slackApprovalClicks(h, await createTestAgent(h.bridge, 'slack-socket-agent'), 'socket');
  });
  afterAll(async () => h?.close());

  it('approves from a click pushed down the socket', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { approvers: [alice.id] });
    const message = await c.requestMessage(thread, id);
    await c.send(c.clickOf('approve', message, mallory));
    await c.answerTo(thread, mallory, /may not decide/);
    await c.send(c.clickOf('approve', message, alice));
    expect((await c.settled(id)).decision).toMatchObject({ outcome: 'approved', by: [{ who: alice.id }] });
  });

  it('counts a payload Slack delivers twice (a new envelope, the same click) once', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread, { quorum: 2 });
    const message = await c.requestMessage(thread, id);
    const click = c.clickOf('approve', message, alice);
    await c.send(click);
    await c.send(click);
    await waitFor('alice counted', async () => ((await c.view(id)).votes.approve.length === 1 ? true : undefined));
    await c.send(c.clickOf('approve', message, bob));
    expect((await c.settled(id)).decision.by.map((b: { who: string }) => b.who)).toEqual([alice.id, bob.id]);
    await new Promise((r) => setTimeout(r, 300));
    const votes = (await h.bridge.bridge.engine.audit.recent(2_000)).filter(
      (e) => e.handoffId === id && e.event === 'approval.vote',
    );
    expect(votes).toHaveLength(2);
  });

  it('denies through the modal, its submission answered in the ack', async () => {
    const thread = h.newThread();
    const id = await c.ask(thread);
    const ack = await c.denyWithModal(await c.requestMessage(thread, id), bob, 'wrong window');
    expect(ack.body).toEqual({ response_action: 'clear' });
    expect((await c.settled(id)).decision).toMatchObject({
      outcome: 'denied',
      by: [{ who: bob.id }],
      reason: 'wrong window',
    });
  });
});
