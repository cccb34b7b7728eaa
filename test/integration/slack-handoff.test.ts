import { handoffTag } from '../../src/core/handoff-tag.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { slackSignatureHeaders } from '../fakes/slack/slack-signing.js';
import { slackFixture } from '../fixtures/slack/slack-fixtures.js';
import { startTestAgent } from '../helpers/agent.js';
import { alice, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Handoffs in Slack threads over the Events API: the real bridge, real BullMQ workers and the
 * real WebClient against a fake Slack Web API; replies delivered as Slack delivers them,
 * signed with the signing secret.
 */
describe('Slack threads over the Events API (real Redis, real BullMQ, real WebClient)', () => {
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-events');
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  const exchanges = (approvalUrl: string) =>
    h.bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;
  const inboundJobs = async () => {
    const counts = await h.bridge.bridge.queues.inbound.getJobCounts(
      'waiting',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
    );
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  it('runs a whole handoff in a thread: private link, signed reply, resumed job, reactions, success notice', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, [alice.email], 'report-agent');

    // The link goes to the approver alone; the thread copy says so and carries no link.
    const approval = await h.privateApproval(thread, alice.id);
    const inThread = await h.threadApproval(thread);
    const shown = shownText(inThread.message);
    expect(inThread.url).toBeUndefined();
    expect(shown).toContain('sent privately');
    expect(shown).toContain(`<@${alice.id}>`);
    expect(shown).toMatch(/\*Agent\*\nreport-agent\n\*Service\*\n127\.0\.0\.1:\d+\n\*The link opens\*\nsent privately/);
    expect(shown).toMatch(/Expires <!date\^\d+\^/);
    expect(inThread.message).toMatchObject({ unfurlLinks: false, unfurlMedia: false });
    expect(inThread.handoffId).toBe(approval.handoffId);
    // The approver named by email was resolved to a Slack user id.
    expect((await h.bridge.api.getHandoff(approval.handoffId)).approvers).toEqual([alice.id]);

    const code = await h.bridge.approve(approval.url);
    const { res, body } = await h.reply(thread, alice.id, `Agent Analytics finish code: \`${code}\``);
    expect(res.status).toBe(200);

    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result.status).toBe(200);
    expect(exchanges(approval.url)).toBe(1);

    const success = await waitFor('success notice', () => h.botTexts(thread).find((t) => t.startsWith('✅')));
    expect(success).toMatch(
      /Logged in to `127\.0\.0\.1:\d+` \(calls itself `Sandbox Analytics`\) with scopes `account:read`, .+ for agent `report-agent`\. The code is now spent\./,
    );
    const replyTs = body.event.ts as string;
    const { channel } = parseSlackThread(thread);
    // A quick claim shows its outcome alone; 👀 comes only when the answer is slow (seen-reaction.ts).
    await waitFor('the ok reaction', () =>
      (h.slack.state.message(channel, replyTs)?.reactions ?? []).includes('white_check_mark'),
    );
    // Nothing the bridge said anywhere carries the credential.
    const credential = await h.bridge.api.retrieveCredential(result.handoffId);
    const everything = [...h.slack.state.messages.map(shownText), ...h.slack.state.ephemeral.map(shownText)].join('\n');
    expect(everything).not.toContain(credential.accessToken);
    expect(findSecrets(h.botTexts(thread).join('\n'))).toEqual([]);
  });

  it('processes a reply once however often Slack delivers it (retries, the same message under a new event id)', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);
    const before = await inboundJobs();

    const first = await h.reply(thread, alice.id, code);
    const again = () => h.postEvent(first.body, { retryNum: 1 });
    const retries = await Promise.all([again(), again(), h.postEvent(first.body, { retryNum: 2 })]);
    // Same channel:ts delivered under another event id (e.g. a second subscription).
    const sameMessage = await h.postEvent({ ...first.body, event_id: 'Ev0OTHER0001' });
    expect([first.res, ...retries, sameMessage].map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    await job.waitUntilFinished(agent.events, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(exchanges(approval.url)).toBe(1);
    expect((await inboundJobs()) - before).toBe(1);
    expect(h.botTexts(thread).filter((t) => t.startsWith('✅'))).toHaveLength(1);
  });

  it('answers 401 to bad signatures, stale and future timestamps, and enqueues nothing', async () => {
    const thread = h.newThread();
    // A handoff waits in the thread, so a genuine reply there is queued (others are ignored).
    await agent.run(thread, [alice.email], 'signature-agent');
    await h.threadApproval(thread);
    const t = parseSlackThread(thread);
    const body = slackFixture('event-thread-reply');
    const human = h.slack.postAsUser(t.channel, alice.id, 'done', t.threadTs);
    Object.assign(body.event, {
      channel: t.channel,
      thread_ts: t.threadTs,
      user: alice.id,
      text: 'done',
      ts: human.ts,
      event_ts: human.ts,
    });
    body.event_id = 'Ev0SIGNED001';
    const raw = JSON.stringify(body);
    const now = Math.floor(Date.now() / 1000);
    const eventsUrl = `${h.bridge.url}/slack/events`;
    const before = await inboundJobs();

    const attempts = {
      wrongSecret: await h.postEvent(raw, { signWith: 'aWrongSigningSecret0000000000000' }),
      stale: await h.postEvent(raw, { timestampSec: now - 6 * 60 }),
      future: await h.postEvent(raw, { timestampSec: now + 6 * 60 }),
      unsigned: await fetch(eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw }),
      // Signed for one body, sent with another (the author swapped).
      tampered: await fetch(eventsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...slackSignatureHeaders(h.signingSecret, raw) },
        body: JSON.stringify({ ...body, event: { ...body.event, user: mallory.id } }),
      }),
    };
    for (const [what, res] of Object.entries(attempts)) expect(res.status, what).toBe(401);
    expect(await attempts.future.json()).toMatchObject({
      error: { code: 'stale_slack_request', message: expect.stringMatching(/in the future/) },
    });
    expect(await attempts.stale.json()).toMatchObject({
      error: { code: 'stale_slack_request', message: expect.stringMatching(/in the past/) },
    });
    expect(await attempts.wrongSecret.json()).toMatchObject({ error: { code: 'invalid_slack_signature' } });
    expect(await attempts.unsigned.json()).toMatchObject({ error: { code: 'missing_slack_signature' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(await inboundJobs()).toBe(before);

    // Rejected deliveries left no trace: the genuine one is still accepted.
    expect((await h.postEvent(raw)).status).toBe(200);
    await waitFor('the genuine delivery queued', async () => (await inboundJobs()) === before + 1);
  });

  it('answers the url_verification challenge, but only when signed', async () => {
    const challenge = slackFixture('url-verification');
    const res = await h.postEvent(challenge);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: challenge.challenge });
    const unsigned = await fetch(`${h.bridge.url}/slack/events`, { method: 'POST', body: JSON.stringify(challenge) });
    expect(unsigned.status).toBe(401);
  });

  it('ignores bot messages (its own included), edits, deletions and top-level messages', async () => {
    const thread = h.newThread();
    const t = parseSlackThread(thread);
    await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);
    const before = await inboundJobs();

    const place = (name: Parameters<typeof slackFixture>[0]) => {
      const body = slackFixture(name);
      body.event.channel = t.channel;
      if (body.event.thread_ts) body.event.thread_ts = t.threadTs;
      if (body.event.message?.thread_ts) body.event.message.thread_ts = t.threadTs;
      return body;
    };
    const bot = place('event-bot-reply');
    bot.event.text = `finish code ${code}`;
    const edited = place('event-message-changed');
    edited.event.message.text = `finish code ${code}`;
    const topLevel = place('event-top-level-message');
    topLevel.event.text = `finish code ${code}`;
    const deliveries = [bot, edited, place('event-message-deleted'), topLevel];
    for (const body of deliveries) expect((await h.postEvent(body)).status).toBe(200);

    await new Promise((r) => setTimeout(r, 300));
    expect(await inboundJobs()).toBe(before);
    expect((await h.bridge.api.getHandoff(approval.handoffId)).status).toBe('awaiting_human');
    expect(exchanges(approval.url)).toBe(0);
  });

  it('refuses a reply from someone who is not the approver; the approver can still finish', async () => {
    const thread = h.newThread();
    // Named by handle: resolved through users.list.
    const job = await agent.run(thread, ['@alice']);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);

    await h.reply(thread, mallory.id, code);
    const refusal = await waitFor('refusal', () => h.botTexts(thread).find((t) => t.includes('you cannot answer')));
    expect(refusal).toBe(
      `<@${mallory.id}>, you cannot answer request \`${handoffTag(approval.handoffId)}\`: Only <@${alice.id}> may answer. Nothing changed.`,
    );
    const record = await h.bridge.api.getHandoff(approval.handoffId);
    expect(record.status).toBe('awaiting_human');
    expect(exchanges(approval.url)).toBe(0);

    await h.reply(thread, alice.id, code);
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
  });

  it('marks a wrong code with ❌ and says so in the thread', async () => {
    const thread = h.newThread();
    await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    await h.bridge.approve(approval.url);
    const { body } = await h.reply(thread, alice.id, `aae_${'0'.repeat(48)}`);
    const notice = await waitFor('wrong-code notice', () =>
      h.botTexts(thread).find((t) => t.startsWith('That code did not work')),
    );
    expect(notice).toContain('attempt 1 of 5');
    const { channel } = parseSlackThread(thread);
    await waitFor('❌ reaction', () => h.slack.state.message(channel, body.event.ts)?.reactions.includes('x'));
  });

  it('says in the thread when a request expires unanswered', async () => {
    const thread = h.newThread();
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'hasty' },
      approvers: [alice.id],
      expiresInMs: 1_500,
    });
    const expired = await waitFor('expiry notice', () => h.botTexts(thread).find((t) => t.startsWith('⌛')), 15_000);
    expect(expired).toContain('expired before it was finished');
    expect((await h.bridge.api.getHandoff(created.id)).status).toBe('expired');
  });

  it('fails the handoff when an approver matches nobody in the workspace', async () => {
    const thread = h.newThread();
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread,
      agent: { id: 'lost' },
      approvers: ['nobody@example.com'],
    });
    const view = await waitFor('failure', async () => {
      const v = await h.bridge.api.getHandoff(created.id);
      return v.status === 'failed' ? v : undefined;
    });
    expect(view.error).toMatchObject({ code: 'approver_not_found' });
    expect(view.error?.message).toContain('nobody@example.com');
  });
});
