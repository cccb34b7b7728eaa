import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { maxFreshLinks } from '../../src/core/handoff.js';
import { shownText, type FakeMessage } from '../fakes/slack/fake-slack-state.js';
import { audited, createTestAgent } from '../helpers/agents.js';
import { slackApprovalClicks } from '../helpers/slack-approval-clicks.js';
import { alice, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The "New link" button on a Slack login request (issue #14): a click is the clicker's
 * `new link`, through the same engine path (approvers only, at most three, audited), with the
 * thread taken from the clicked message and refusals answered to the clicker alone. Clicked
 * through the real bridge: signed interactivity requests or Socket Mode, real queues on real
 * Redis, the real WebClient against the fake Slack, the bridge's own sandbox as the service.
 */
type Clicks = ReturnType<typeof slackApprovalClicks>;

function loginButtons(h: SlackTestBridge) {
  /** A login in a fresh thread, approvable by alice only, once its request is posted. */
  async function login(thread = h.newThread(), extra: Record<string, unknown> = {}) {
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'button-agent' },
      approvers: [alice.id],
      ...extra,
    });
    const view = await waitFor('awaiting_human', async () => {
      const v = await h.bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    return { id: created.id, thread, url: view.approvalUrl! };
  }
  /** The thread's latest login request message that carries `id`. */
  const requestMessages = (thread: string, id: string): FakeMessage[] => {
    const t = parseSlackThread(thread);
    return h.slack.state
      .thread(t.channel, t.threadTs)
      .filter((m) => m.botId && /Login approval needed/.test(shownText(m)) && shownText(m).includes(id));
  };
  const latestRequest = (thread: string, id: string, count = 1) =>
    waitFor(`login request #${count} of ${id}`, () => {
      const all = requestMessages(thread, id);
      return all.length >= count ? all[all.length - 1] : undefined;
    });
  const newLinkButtonOf = (message: FakeMessage) =>
    (message.blocks as Array<Record<string, any>>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements as Array<Record<string, any>>) : []))
      .find((e) => e.action_id === 'handoff_new_link');
  const linkChanged = (id: string, from: string) =>
    waitFor('a new link', async () => {
      const v = await h.bridge.api.getHandoff(id);
      return v.status === 'awaiting_human' && v.approvalUrl && v.approvalUrl !== from ? v.approvalUrl : undefined;
    });
  const record = async (id: string) => (await h.bridge.bridge.engine.store.get(id))!;
  // The audit entry follows the new link by a moment: wait for `atLeast` of them.
  const freshLinkAudits = (id: string, atLeast = 0) =>
    waitFor(`${atLeast} login.fresh_link entries for ${id}`, async () => {
      const entries = (await h.bridge.bridge.engine.audit.recent(2_000)).filter(
        (e) => e.handoffId === id && e.event === 'login.fresh_link',
      );
      return entries.length >= atLeast ? entries : undefined;
    });
  const settle = () => new Promise((r) => setTimeout(r, 400));
  return { login, requestMessages, latestRequest, newLinkButtonOf, linkChanged, record, freshLinkAudits, settle };
}

describe('Slack "New link" button over the Events API', () => {
  let h: SlackTestBridge;
  let c: Clicks;
  let b: ReturnType<typeof loginButtons>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-new-link', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
    c = slackApprovalClicks(h, await createTestAgent(h.bridge, 'slack-new-link-agent'), 'http');
    b = loginButtons(h);
  });
  afterAll(async () => h?.close());

  it('offers New link (its value the handoff id alone); an approver’s click posts a new link that works', async () => {
    const { id, thread, url } = await b.login();
    const message = await b.latestRequest(thread, id);
    const button = b.newLinkButtonOf(message);
    expect(button).toMatchObject({ type: 'button', text: { type: 'plain_text', text: 'New link' }, value: id });

    expect(await c.send(c.clickOf('new_link', message, alice))).toEqual({ status: 200, body: undefined });
    const fresh = await b.linkChanged(id, url);
    const second = await b.latestRequest(thread, id, 2);
    expect(shownText(second)).toContain('A fresh link, as');
    expect(shownText(second)).toContain(`<@${alice.id}>`);
    // The new link went to the approver privately, like the first.
    await waitFor('the new link to alice', () =>
      h.slack.state.ephemeral.find((e) => e.user === alice.id && shownText(e).includes(fresh)),
    );
    const audits = await b.freshLinkAudits(id, 1);
    expect(audits.map((e) => [e.actor, e.detail])).toEqual([[alice.id, { n: 1, via: 'button' }]]);

    const code = await h.bridge.approve(fresh);
    await h.reply(thread, alice.id, code);
    await waitFor('completed', async () =>
      (await h.bridge.api.getHandoff(id)).status === 'completed' ? true : undefined,
    );
  });

  it('refuses a non-approver privately, once for a flood, and changes nothing', async () => {
    const { id, thread, url } = await b.login();
    const message = await b.latestRequest(thread, id);
    await Promise.all(Array.from({ length: 10 }, () => c.send(c.clickOf('new_link', message, mallory))));
    await c.answerTo(thread, mallory, /you cannot answer/);
    await b.settle();
    expect(c.answersTo(thread, mallory, /you cannot answer/)).toHaveLength(1);
    expect(h.botTexts(thread).join('\n')).not.toMatch(/cannot answer/);
    expect((await h.bridge.api.getHandoff(id)).approvalUrl).toBe(url);
    expect(await b.freshLinkAudits(id)).toHaveLength(0);
    const refused = await audited(h.bridge, (e) => e.handoffId === id && e.event === 'reply.refused');
    expect(refused[0]!.actor).toBe(mallory.id);
  });

  it(`gives at most ${maxFreshLinks}: the last request carries no button, a click on an older one is refused privately`, async () => {
    const { id, thread } = await b.login();
    let url = (await h.bridge.api.getHandoff(id)).approvalUrl!;
    for (let i = 1; i <= maxFreshLinks; i++) {
      await c.send(c.clickOf('new_link', await b.latestRequest(thread, id, i), alice));
      url = await b.linkChanged(id, url);
    }
    const last = await b.latestRequest(thread, id, maxFreshLinks + 1);
    expect(b.newLinkButtonOf(last)).toBeUndefined();

    const first = b.requestMessages(thread, id)[0]!;
    await c.send(c.clickOf('new_link', first, alice));
    await c.answerTo(thread, alice, /the most there is/);
    await b.settle();
    expect(h.botTexts(thread).join('\n')).not.toMatch(/the most there is/);
    expect(await b.record(id)).toMatchObject({ freshLinks: maxFreshLinks, approvalUrl: url });
  });

  it('answers a click after the login ended privately, and starts nothing', async () => {
    const { id, thread } = await b.login();
    const message = await b.latestRequest(thread, id);
    await h.bridge.api.cancelHandoff(id);
    await waitFor('cancelled', async () =>
      (await h.bridge.api.getHandoff(id)).status === 'cancelled' ? true : undefined,
    );
    await c.send(c.clickOf('new_link', message, alice));
    await c.answerTo(thread, alice, /is over \(cancelled\)/);
    await b.settle();
    expect(await b.record(id)).toMatchObject({ status: 'cancelled' });
    expect((await b.record(id)).freshLinks ?? 0).toBe(0);
  });

  it('restarts once for a flood of clicks by the approver; the rest hear a newer link was posted', async () => {
    const { id, thread, url } = await b.login();
    const message = await b.latestRequest(thread, id);
    await Promise.all(Array.from({ length: 20 }, () => c.send(c.clickOf('new_link', message, alice))));
    await b.linkChanged(id, url);
    await c.answerTo(thread, alice, /was posted after the one this request was about/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await b.record(id)).freshLinks).toBe(1);
    expect(await b.freshLinkAudits(id, 1)).toHaveLength(1);
    expect(b.requestMessages(thread, id)).toHaveLength(2);
    expect(c.answersTo(thread, alice, /was posted after the one this request was about/)).toHaveLength(1);
  });

  it('takes a replayed payload once, and refuses stale or wrongly signed clicks with 401', async () => {
    const { id, thread, url } = await b.login();
    const message = await b.latestRequest(thread, id);
    const stale = await c.send(c.clickOf('new_link', message, alice), {
      timestampSec: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    const forged = await c.send(c.clickOf('new_link', message, alice), {
      signWith: 'notTheSigningSecret0000000000000',
    });
    expect(forged.status).toBe(401);
    await b.settle();
    expect((await h.bridge.api.getHandoff(id)).approvalUrl).toBe(url);

    const click = c.clickOf('new_link', message, alice);
    expect((await c.send(click)).status).toBe(200);
    const fresh = await b.linkChanged(id, url);
    expect((await c.send(click)).status).toBe(200);
    await b.settle();
    expect((await b.record(id)).freshLinks).toBe(1);
    expect((await h.bridge.api.getHandoff(id)).approvalUrl).toBe(fresh);
  });

  it('restarts no login from a value naming another channel’s handoff, nor from a malformed value', async () => {
    const target = await b.login(h.newThread(), { approvers: [mallory.id] });
    const own = await b.login();
    const message = await b.latestRequest(own.thread, own.id);
    await c.send(c.clickOf('new_link', message, mallory, target.id));
    await audited(
      h.bridge,
      (e) => e.handoffId === target.id && e.event === 'reply.refused' && e.detail?.code === 'not_this_thread',
    );
    for (const value of [`${target.id}x!`, JSON.stringify({ handoffId: target.id }), '', 'hf_0000nosuchhandoff'])
      expect((await c.send(c.clickOf('new_link', message, mallory, value))).status).toBe(200);
    await b.settle();
    expect((await h.bridge.api.getHandoff(target.id)).approvalUrl).toBe(target.url);
    expect((await h.bridge.api.getHandoff(own.id)).approvalUrl).toBe(own.url);
    expect(await b.freshLinkAudits(target.id)).toHaveLength(0);
    // Nothing was said in either thread about it.
    expect(h.botTexts(target.thread).join('\n')).not.toMatch(/fresh link|cannot answer/i);
  });
});

describe('Slack "New link" button over Socket Mode', () => {
  let h: SlackTestBridge;
  afterAll(async () => h?.close());

  it('restarts the login from a click pushed down the socket; a non-approver is refused privately', async () => {
    h = await startSlackTestBridge('slack-new-link-socket', {
      socketMode: true,
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
    const b = loginButtons(h);
    const c = slackApprovalClicks(h, await createTestAgent(h.bridge, 'slack-new-link-socket'), 'socket');
    const { id, thread, url } = await b.login();
    const message = await b.latestRequest(thread, id);
    await c.send(c.clickOf('new_link', message, mallory));
    await c.answerTo(thread, mallory, /you cannot answer/);
    await c.send(c.clickOf('new_link', message, alice));
    await b.linkChanged(id, url);
    expect((await b.freshLinkAudits(id, 1)).map((e) => [e.actor, e.detail])).toEqual([
      [alice.id, { n: 1, via: 'button' }],
    ]);
  });
});
