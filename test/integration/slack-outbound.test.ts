import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { alice, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Outbound to Slack through the platform's queue: Slack's 429s become a pause of the queue
 * (the message arrives later, never lost), links go privately to approvers or, with private
 * links turned off, into the thread.
 */
describe('Slack outbound queue (real BullMQ limiter, real WebClient, fake Slack)', () => {
  let h: SlackTestBridge;

  beforeAll(async () => {
    // Shared channels are refused by default; this bridge warns instead (tested below).
    h = await startSlackTestBridge('slack-outbound', { env: { SLACK_SHARED_CHANNELS: 'warn' } });
  });
  afterAll(async () => h?.close());

  it('waits out a 429 with Retry-After and delivers the message afterwards', async () => {
    const thread = h.newThread();
    h.slack.failNext('chat.postEphemeral', { status: 429, retryAfterSec: 1 });
    const startedAt = Date.now();
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'patient' },
      approvers: [alice.id],
    });

    const approval = await h.privateApproval(thread, alice.id);
    expect(approval.handoffId).toBe(created.id);
    const attempts = h.slack.callsOf('chat.postEphemeral').filter((c) => c.at >= startedAt);
    expect(attempts.map((c) => c.status)).toEqual([429, 200]);
    // The retry came after Slack's Retry-After (1 s), not before.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    // Exactly one copy arrived; the handoff kept waiting for its human meanwhile.
    expect(h.slack.state.ephemeral.filter((e) => shownText(e).includes(created.id))).toHaveLength(1);
    expect((await h.bridge.api.getHandoff(created.id)).status).toBe('awaiting_human');
    await h.bridge.api.cancelHandoff(created.id);
  });

  it('also waits out a 429 on the thread post', async () => {
    const thread = h.newThread();
    h.slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'patient' },
      approvers: [alice.id],
    });
    const inThread = await h.threadApproval(thread);
    expect(inThread.handoffId).toBe(created.id);
    expect(h.slack.callsOf('chat.postMessage').some((c) => c.status === 429)).toBe(true);
    await h.bridge.api.cancelHandoff(created.id);
    await waitFor('cancel notice', () => h.botTexts(thread).some((t) => t.includes('was cancelled')));
  });

  it('sends no direct message to an approver who is not in the channel: the handoff fails and says how to allow it', async () => {
    const channel = 'C0MEMBERS02';
    h.slack.state.members.set(channel, new Set([alice.id]));
    const thread = h.newThread(channel);
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'dm' },
      approvers: ['bob@example.com'],
    });
    const view = await waitFor('failure', async () => {
      const v = await h.bridge.api.getHandoff(created.id);
      return v.status === 'failed' ? v : undefined;
    });
    expect(view.error?.code).toBe('approver_not_in_channel');
    expect(view.error?.message).toContain('SLACK_DM_OUTSIDE_CHANNEL=on');
    expect(h.slack.state.messages.filter((m) => m.channel === 'D0BOB00001')).toEqual([]);
  });

  it('with SLACK_SHARED_CHANNELS=warn, warns in a channel shared with another organization (Slack Connect), and still works there', async () => {
    const channel = 'C0CONNECT77';
    h.slack.state.externallyShared.set(channel, 'shared');
    const thread = h.newThread(channel);
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'shared' },
      approvers: [alice.id],
    });
    const inThread = await h.threadApproval(thread);
    expect(inThread.handoffId).toBe(created.id);
    expect(h.botTexts(thread).join('\n')).toContain(
      '⚠️ People outside your organization can read this thread, and with it this link.',
    );
    expect((await h.bridge.api.getHandoff(created.id)).status).toBe('awaiting_human');
    await h.bridge.api.cancelHandoff(created.id);
  });

  it('fails the handoff with a clear reason when the bot cannot post in the channel', async () => {
    const thread = h.newThread();
    // Scoped to this thread's channel: an earlier test's cancel notice may still be on its way.
    h.slack.failNext('chat.postMessage', {
      error: 'not_in_channel',
      channel: thread.slice('slack:'.length).split('/')[0],
    });
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'uninvited' },
    });
    const view = await waitFor('failure', async () => {
      const v = await h.bridge.api.getHandoff(created.id);
      return v.status === 'failed' ? v : undefined;
    });
    expect(view.error?.code).toBe('slack_api_error');
    expect(view.error?.message).toContain('not_in_channel');
    expect(view.error?.message).toContain('/invite');
  });
});

describe('Slack with private links turned off', () => {
  let h: SlackTestBridge;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-public-links', {
      env: { SLACK_PRIVATE_LINKS: 'off', SLACK_CODE_MODAL: 'off' },
    });
  });
  afterAll(async () => h?.close());

  it('posts the link in the thread itself, with no ephemeral copy and no modal button', async () => {
    const thread = h.newThread();
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'open' },
      approvers: [alice.id],
    });
    const inThread = await h.threadApproval(thread);
    expect(inThread.handoffId).toBe(created.id);
    expect(inThread.url).toMatch(/\/sandbox\/authorize\//);
    expect(JSON.stringify(inThread.message.blocks)).not.toContain('handoff_paste_code');
    expect(h.slack.state.ephemeral).toHaveLength(0);
    await h.bridge.api.cancelHandoff(created.id);
  });
});

describe('Slack with shared channels refused (the default, SLACK_SHARED_CHANNELS=refuse) and direct messages allowed (SLACK_DM_OUTSIDE_CHANNEL=on)', () => {
  let h: SlackTestBridge;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-shared-refused', { env: { SLACK_DM_OUTSIDE_CHANNEL: 'on' } });
  });
  afterAll(async () => h?.close());

  it('sends the approval link as a direct message to an approver who is not in the channel, when allowed', async () => {
    const channel = 'C0MEMBERS01';
    h.slack.state.members.set(channel, new Set([alice.id]));
    const thread = h.newThread(channel);
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'dm' },
      approvers: ['bob@example.com'],
    });
    const dm = await waitFor('direct message to bob', () =>
      h.slack.state.messages.find((m) => m.channel === 'D0BOB00001' && shownText(m).includes(created.id)),
    );
    expect(shownText(dm)).toMatch(/\/sandbox\/authorize\//);
    expect(shownText(dm)).toContain(`<#${channel}>`);
    const inThread = await h.threadApproval(thread);
    expect(inThread.url).toBeUndefined();
    await h.bridge.api.cancelHandoff(created.id);
  });

  it('posts no link into a Slack Connect channel, fails with public_thread and says how to allow it', async () => {
    const channel = 'C0CONNECT88';
    h.slack.state.externallyShared.set(channel, 'pending');
    const thread = h.newThread(channel);
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'shared' },
      approvers: [alice.id],
    });
    const view = await waitFor('refusal', async () => {
      const v = await h.bridge.api.getHandoff(created.id);
      return v.status === 'failed' ? v : undefined;
    });
    expect(view.error?.code).toBe('public_thread');
    expect(view.error?.message).toContain('SLACK_SHARED_CHANNELS=warn');
    expect(view.approvalUrl).toBeNull();
    expect(h.slack.state.ephemeral.filter((e) => e.channel === channel)).toEqual([]);
    expect(h.botTexts(thread).join('\n')).not.toMatch(/\/sandbox\/authorize\//);

    // A channel of the workspace alone is unaffected.
    const internal = h.newThread();
    const ok = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread: internal,
      agent: { id: 'internal' },
      approvers: [alice.id],
    });
    await h.privateApproval(internal, alice.id);
    expect((await h.bridge.api.getHandoff(ok.id)).status).toBe('awaiting_human');
    await h.bridge.api.cancelHandoff(ok.id);
  });
});
