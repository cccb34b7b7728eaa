import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText, type FakeMessage } from '../fakes/slack/fake-slack-state.js';
import { hostileReason } from '../helpers/approval-edits.js';
import { randomPrefix } from '../helpers/redis.js';
import { forbiddenCharacters, readMrkdwn, slackTextObjects } from '../helpers/rendered-markup.js';
import { alice, bob, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { startTestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Approvals (issue #13) in a Slack thread, through the real WebClient against the fake Slack
 * and signed Events API deliveries: text replies `approve` and `deny <reason>` decide, and the
 * request is edited in place (chat.update) to show the votes and then the outcome, with no
 * action blocks left once it is settled.
 */
describe('approvals in Slack threads', () => {
  let s: SlackTestBridge;
  beforeAll(async () => {
    s = await startSlackTestBridge('slack-approvals');
  });
  afterAll(async () => s?.close());

  const ask = async (on: SlackTestBridge, thread: string, quorum = 1) => {
    const created = await on.bridge.api.createApproval({
      thread,
      agent: { id: 'slack-agent' },
      action: { title: 'Restart the payments service', risk: 'high' },
      quorum,
    });
    return { id: created.id, request: await requestIn(on, thread, '🛂') };
  };
  /** The bot's message in the thread whose text says `what` (the request, under its first ts). */
  const requestIn = (on: SlackTestBridge, thread: string, what: string, ts?: string) => {
    const t = parseSlackThread(thread);
    return waitFor(`the request to say "${what}"`, () =>
      on.slack.state
        .thread(t.channel, t.threadTs)
        .find((m) => m.botId && (ts === undefined || m.ts === ts) && shownText(m).includes(what)),
    );
  };
  const actionBlocks = (m: FakeMessage) => (m.blocks ?? []).filter((b) => (b as { type?: string }).type === 'actions');

  it('text replies: "approve" shows 1 of 2 in the request; "lgtm" approves it, edited in place', async () => {
    const thread = s.newThread();
    const { id, request } = await ask(s, thread, 2);
    await s.reply(thread, alice.id, 'approve');
    const counted = await requestIn(s, thread, 'Approvals so far: 1 of 2', request.ts);
    expect(counted.edited).toBe(true);
    await s.reply(thread, bob.id, 'lgtm');
    const done = await requestIn(s, thread, '✅ Approved', request.ts);
    expect(shownText(done)).toMatch(/Approved by .* at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(actionBlocks(done)).toEqual([]);
    expect((await s.bridge.api.getApproval(id)).decision).toMatchObject({
      outcome: 'approved',
      by: [{ who: alice.id }, { who: bob.id }],
    });
    expect(s.slack.callsOf('chat.update').every((c) => c.status === 200)).toBe(true);
  });

  it('"deny <reason>" denies; the edited request shows a hostile reason without any Slack token of its own', async () => {
    const thread = s.newThread();
    const { id, request } = await ask(s, thread);
    await s.reply(thread, mallory.id, `deny ${hostileReason}`);
    const done = await requestIn(s, thread, '⛔ Denied', request.ts);
    expect((await s.bridge.api.getApproval(id)).decision).toMatchObject({
      outcome: 'denied',
      by: [{ who: mallory.id }],
    });
    expect(actionBlocks(done)).toEqual([]);
    for (const text of [done.text, ...slackTextObjects(done.blocks).map((o) => o.text)]) {
      const facts = readMrkdwn(text);
      // Only the bridge's own tokens: the decider's mention and date tokens.
      for (const token of facts.tokens) expect(token).toMatch(/^@U0MALLORY1$|^!date\^/);
      expect(facts.strayBrackets).toBe(false);
      for (const line of text.split('\n')) expect(line).not.toMatch(forbiddenCharacters);
    }
    expect(shownText(done)).toContain('<!channel>');
  });

  it('a vote and a cancel that come before the request is posted still show in it once it is', async () => {
    const voted = s.newThread();
    const cancelled = s.newThread();
    // The first post waits 3 s (Slack's Retry-After), and everything queued behind it.
    s.slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 3 });
    const ask2 = (thread: string, quorum: number) =>
      s.bridge.api.createApproval({ thread, agent: { id: 'slack-agent' }, action: { title: 'Early' }, quorum });
    const a = await ask2(voted, 2);
    const b = await ask2(cancelled, 1);
    const waiting = (id: string) =>
      waitFor('awaiting a decision', async () =>
        (await s.bridge.api.getApproval(id)).status === 'awaiting_human' ? true : undefined,
      );
    await Promise.all([waiting(a.id), waiting(b.id)]);
    await s.reply(voted, alice.id, 'approve');
    await waitFor('the vote counted', async () =>
      (await s.bridge.api.getApproval(a.id)).votes.approve.length === 1 ? true : undefined,
    );
    await s.bridge.api.cancelHandoff(b.id);
    // Both happened while neither request was in its thread yet.
    expect(s.botTexts(voted).concat(s.botTexts(cancelled))).toEqual([]);
    const counted = await requestIn(s, voted, 'Approvals so far: 1 of 2');
    expect(counted.edited).toBe(true);
    const ended = await requestIn(s, cancelled, '⏹ Cancelled');
    expect(ended.edited).toBe(true);
    expect(actionBlocks(ended)).toEqual([]);
  });

  it('a settlement whose edit is rate-limited when the bridge stops is edited by the next bridge', async () => {
    const shared = {
      prefix: randomPrefix('slk-edit'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
    };
    const first = await startSlackTestBridge('slack-edit-restart-1', { shared });
    const thread = first.newThread();
    const { id, request } = await ask(first, thread);
    first.slack.failNext('chat.update', { status: 429, retryAfterSec: 2 });
    await first.reply(thread, alice.id, 'approve');
    await waitFor('the edit to meet the rate limit', () =>
      first.slack.callsOf('chat.update').some((c) => c.status === 429),
    );
    await first.bridge.bridge.close();
    expect(first.slack.callsOf('chat.update').filter((c) => c.status === 200)).toEqual([]);
    const second = await startTestBridge('slack-edit-restart-2', {
      ...shared,
      env: {
        SLACK_BOT_TOKEN: first.slack.botToken,
        SLACK_API_URL: first.slack.url,
        SLACK_SIGNING_SECRET: first.signingSecret,
        SLACK_OUTBOUND_PER_SECOND: '20',
      },
    });
    try {
      const done = await requestIn(first, thread, '✅ Approved', request.ts);
      expect(actionBlocks(done)).toEqual([]);
      expect((await second.api.getApproval(id)).status).toBe('completed');
    } finally {
      await second.close();
      await first.slack.close();
    }
  });
});
