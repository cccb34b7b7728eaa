import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText, type FakeMessage } from '../fakes/slack/fake-slack-state.js';
import { postSignedEvent, postSignedInteraction } from '../fakes/slack/slack-signing.js';
import { approvalButtonClick, threadReplyEvent } from '../fixtures/slack/slack-fixtures.js';
import { randomPrefix } from '../helpers/redis.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { alice, startSlackTestBridge } from '../helpers/slack-bridge.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The Slack "New link" button (issue #14) across a bridge restart, as the `new link` reply is
 * tested in fresh-link.test.ts: a click the stopping bridge acknowledged is answered once, by the
 * next bridge if need be, and the button on a request the first bridge posted still works.
 */
describe('Slack "New link" button across a bridge restart', () => {
  const env = { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' };

  it('a click that arrives as the bridge stops gets one new link, from the next bridge if need be; that link works', async () => {
    const shared = {
      prefix: randomPrefix('slk-newlink'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
    };
    // The service and Slack outlive both bridges (the bridge's own sandbox would stop with the first).
    const service = await startSandboxServer();
    const first = await startSlackTestBridge('slack-newlink-restart-1', { shared, env });
    let second: TestBridge | undefined;
    try {
      const thread = first.newThread();
      const t = parseSlackThread(thread);
      const requests = (id: string): FakeMessage[] =>
        first.slack.state
          .thread(t.channel, t.threadTs)
          .filter((m) => m.botId && /Login approval needed/.test(shownText(m)) && shownText(m).includes(id));
      const { id } = await first.bridge.api.createHandoff({
        service: service.url,
        thread,
        agent: { id: 'button-agent' },
        approvers: [alice.id],
      });
      const url = await waitFor('awaiting_human', async () => {
        const v = await first.bridge.api.getHandoff(id);
        return v.status === 'awaiting_human' ? v.approvalUrl : undefined;
      });
      const clickOn = (message: FakeMessage) => {
        const block = (message.blocks as Array<Record<string, any>>).find(
          (b) =>
            b.type === 'actions' &&
            (b.elements as Array<Record<string, any>>).some((e) => e.action_id === 'handoff_new_link'),
        )!;
        return approvalButtonClick({
          action: 'new_link',
          blockId: block.block_id as string,
          value: id,
          user: alice.id,
          username: alice.name,
          channel: message.channel,
          threadTs: message.threadTs!,
          messageTs: message.ts,
        });
      };
      const posted = await waitFor('the login request', () => requests(id)[0]);

      const acked = await first.postInteraction(clickOn(posted));
      expect(acked.status).toBe(200);
      await first.bridge.bridge.close();
      second = await startTestBridge('slack-newlink-restart-2', {
        ...shared,
        env: {
          ...env,
          SLACK_BOT_TOKEN: first.slack.botToken,
          SLACK_API_URL: first.slack.url,
          SLACK_SIGNING_SECRET: first.signingSecret,
          SLACK_OUTBOUND_PER_SECOND: '20',
        },
      });
      const api = second.api;
      const changed = (from: string) =>
        waitFor('a new link', async () => {
          const v = await api.getHandoff(id);
          return v.status === 'awaiting_human' && v.approvalUrl && v.approvalUrl !== from ? v.approvalUrl : undefined;
        });
      const fresh = await changed(url!);
      const again = await waitFor('the fresh request', () => requests(id)[1]);
      expect(shownText(again)).toContain('A fresh link, as');
      await new Promise((r) => setTimeout(r, 500));
      expect((await second.bridge.engine.store.get(id))!.freshLinks).toBe(1);
      expect(requests(id)).toHaveLength(2);

      // The button on the fresh request works on the second bridge, and its link completes the login.
      const interactivity = `${second.url}/slack/interactivity`;
      expect((await postSignedInteraction(interactivity, first.signingSecret, clickOn(again))).status).toBe(200);
      const third = await changed(fresh);
      const code = await second.approve(third);
      const reply = first.slack.postAsUser(t.channel, alice.id, code, t.threadTs);
      const event = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user: alice.id,
        text: code,
        ts: reply.ts,
      });
      expect((await postSignedEvent(`${second.url}/slack/events`, first.signingSecret, event)).status).toBe(200);
      await waitFor('completed', async () => ((await api.getHandoff(id)).status === 'completed' ? true : undefined));
      expect((await second.bridge.engine.store.get(id))!.freshLinks).toBe(2);
    } finally {
      await second?.close();
      await first.slack.close();
      await service.close();
    }
  });
});
