import { afterAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { fakeTeam, shownText } from '../fakes/slack/fake-slack-state.js';
import { runDriverNow } from '../helpers/driver-run.js';
import { alice, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * An escalation step that names another Slack channel (issue #14): its notice there links back
 * to the thread where the handoff waits, with the permalink Slack gives (chat.getPermalink),
 * through the real bridge against the fake Slack; the test clock makes the step come due.
 */
describe('Slack escalation to another channel links back to the thread (issue #14)', () => {
  let h: SlackTestBridge;
  let offsetMs = 0;
  afterAll(async () => h?.close());

  it('the notice in the on-call channel carries a link button to the thread’s permalink', async () => {
    h = await startSlackTestBridge('slack-escalation-link', { clock: { now: () => Date.now() + offsetMs } });
    const thread = h.newThread();
    const oncall = h.newThread('C0ONCALL01');
    const created = await h.bridge.api.createApproval({
      thread,
      agent: { id: 'slack-esc-agent' },
      action: { title: 'Restart the database' },
      approvers: [alice.id],
      expiresInMs: 3_600_000,
      escalate: [{ afterMs: 600_000, approvers: [mallory.id], thread: oncall }],
    });
    await waitFor('the request', () => (h.botTexts(thread).length ? true : undefined));
    offsetMs = 601_000;
    await runDriverNow(h.bridge, created.id);
    const t = parseSlackThread(thread);
    const o = parseSlackThread(oncall);
    const notice = await waitFor('the notice in the on-call thread', () =>
      h.slack.state.thread(o.channel, o.threadTs).find((m) => m.botId && shownText(m).includes('⤴️')),
    );
    const button = (notice.blocks as Array<Record<string, any>>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements as Array<Record<string, any>>) : []))
      .find((e) => e.url);
    expect(button).toMatchObject({
      text: { type: 'plain_text', text: 'Open the thread where it waits' },
      url: `https://${fakeTeam.domain}.slack.com/archives/${t.channel}/p${t.threadTs.replace('.', '')}`,
    });
    // The notice in the handoff's own thread needs no link back.
    const here = h.slack.state.thread(t.channel, t.threadTs).find((m) => m.botId && shownText(m).includes('⤴️'));
    expect(JSON.stringify(here?.blocks ?? [])).not.toContain('"url"');
  });
});
