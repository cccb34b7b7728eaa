import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { codeSubmission, pasteCodeClick } from '../fixtures/slack/slack-fixtures.js';
import { startTestAgent } from '../helpers/agent.js';
import {
  alice,
  mallory,
  pasteButtonValue,
  startSlackTestBridge,
  type SlackTestBridge,
} from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

describe('finishing through the code modal: the code never appears in the channel', () => {
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-modal');
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  /** Clicks the button in the thread's approval message as `user`; returns the modal Slack opened. */
  async function openModal(thread: string, user: string) {
    const t = parseSlackThread(thread);
    const { message } = await h.threadApproval(thread);
    const opened = h.slack.state.views.length;
    const click = pasteCodeClick({
      value: pasteButtonValue(message.blocks),
      user,
      channel: t.channel,
      threadTs: t.threadTs,
      messageTs: message.ts,
    });
    const res = await h.postInteraction(click);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const view = await waitFor('views.open', () => h.slack.state.views[opened]);
    expect(view.triggerId).toBe(click.trigger_id);
    return view;
  }

  it('opens a modal from the button and finishes the login from its submission', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);

    const view = await openModal(thread, alice.id);
    expect(view.view).toMatchObject({ type: 'modal', callback_id: 'handoff_code' });
    const res = await h.postInteraction(
      codeSubmission({ viewId: view.id, privateMetadata: String(view.view.private_metadata), code, user: alice.id }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ response_action: 'update', view: { type: 'modal' } });

    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result.status).toBe(200);
    const success = await waitFor('success notice', () => h.botTexts(thread).find((t) => t.startsWith('✅')));
    expect(success).toContain('Logged in to');
    // The code went to the bridge alone: no message or ephemeral anywhere carries it.
    const everything = [...h.slack.state.messages, ...h.slack.state.ephemeral].map(shownText).join('\n');
    expect(everything).not.toContain(code);
  });

  it('refuses a submission from someone who is not the approver', async () => {
    const thread = h.newThread();
    await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);

    const view = await openModal(thread, mallory.id);
    const res = await h.postInteraction(
      codeSubmission({
        viewId: view.id,
        privateMetadata: String(view.view.private_metadata),
        code,
        user: mallory.id,
        username: 'mallory',
      }),
    );
    expect(res.status).toBe(200);
    const refusal = await waitFor('refusal', () => h.botTexts(thread).find((t) => t.includes('you cannot answer')));
    expect(refusal).toContain(`Only <@${alice.id}> may answer.`);
    expect((await h.bridge.api.getHandoff(approval.handoffId)).status).toBe('awaiting_human');
  });

  it('acks clicks on the link button and other interactions without doing anything', async () => {
    const t = parseSlackThread(h.newThread());
    const click = pasteCodeClick({ value: 'ignored', user: alice.id, channel: t.channel, threadTs: t.threadTs });
    click.actions[0].action_id = 'handoff_open_link';
    const views = h.slack.state.views.length;
    expect((await h.postInteraction(click)).status).toBe(200);
    expect(
      (await h.postInteraction({ type: 'view_closed', user: { id: alice.id }, view: { id: 'V0CLOSED01' } })).status,
    ).toBe(200);
    expect((await h.postInteraction(click, { signWith: 'notTheSigningSecret0000000000000' })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.slack.state.views.length).toBe(views);
  });
});
