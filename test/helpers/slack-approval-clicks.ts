import { expect } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText, type FakeEphemeral, type FakeMessage } from '../fakes/slack/fake-slack-state.js';
import type { SignedPostOptions } from '../fakes/slack/slack-signing.js';
import { approvalButtonClick, denySubmission } from '../fixtures/slack/slack-fixtures.js';
import type { TestAgent } from './agents.js';
import type { SlackTestBridge } from './slack-bridge.js';
import { waitFor } from './wait.js';

/**
 * Approval requests in a fake Slack thread and clicks on their Approve and Deny buttons, sent
 * the way Slack sends them: signed to /slack/interactivity, or down the Socket Mode connection.
 */
export type Json = Record<string, any>;
export interface SlackUser {
  readonly id: string;
  readonly name: string;
}

export function slackApprovalClicks(h: SlackTestBridge, agent: TestAgent, via: 'http' | 'socket') {
  /** Sends an interaction payload; the body Slack got back (parsed JSON, or undefined when empty). */
  async function send(payload: Json, options: SignedPostOptions = {}): Promise<{ status: number; body: unknown }> {
    if (via === 'socket') {
      const ack = await h.slack.socket.send(h.slack.socket.interactive(payload));
      const body = (ack as { payload?: unknown } | undefined)?.payload;
      return { status: 200, body: body && Object.keys(body).length > 0 ? body : undefined };
    }
    const res = await h.postInteraction(payload, options);
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async function ask(thread: string, extra: Json = {}): Promise<string> {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: { title: 'Rotate the production database password', risk: 'high' },
      ...extra,
    });
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  }

  /** The request message of `handoffId` in the thread, once posted (it carries the buttons). */
  function requestMessage(thread: string, handoffId: string): Promise<FakeMessage> {
    const t = parseSlackThread(thread);
    return waitFor(`the approval request ${handoffId}`, () =>
      h.slack.state
        .thread(t.channel, t.threadTs)
        .find((m) => m.botId && JSON.stringify(m.blocks ?? []).includes(`"value":"${handoffId}"`)),
    );
  }

  /** The payload of a click by `user` on a button of `message` (the value as the button holds it, unless forged). */
  function clickOf(
    action: 'approve' | 'deny' | 'new_link',
    message: FakeMessage,
    user: SlackUser,
    forgedValue?: string,
  ): Json {
    const block = (message.blocks as Json[]).find(
      (b) => b.type === 'actions' && (b.elements as Json[]).some((e) => e.action_id === `handoff_${action}`),
    );
    const button = (block?.elements as Json[] | undefined)?.find((e) => e.action_id === `handoff_${action}`);
    expect(button, `the ${action} button`).toBeDefined();
    return approvalButtonClick({
      action,
      ...(typeof block!.block_id === 'string' ? { blockId: block!.block_id } : {}),
      value: forgedValue ?? String(button!.value),
      user: user.id,
      username: user.name,
      channel: message.channel,
      threadTs: message.threadTs!,
      messageTs: message.ts,
    });
  }

  /** Clicks Deny as `user`, then submits the modal Slack opened with `reason`; the submission's ack. */
  async function denyWithModal(message: FakeMessage, user: SlackUser, reason: string | null) {
    const opened = h.slack.state.views.length;
    const click = clickOf('deny', message, user);
    const clicked = await send(click);
    expect(clicked).toEqual({ status: 200, body: undefined });
    const view = await waitFor('views.open', () => h.slack.state.views[opened]);
    expect(view.triggerId).toBe(click.trigger_id);
    expect(view.view).toMatchObject({ type: 'modal', callback_id: 'handoff_deny' });
    return send(
      denySubmission({
        viewId: view.id,
        privateMetadata: String(view.view.private_metadata),
        reason,
        user: user.id,
        username: user.name,
      }),
    );
  }

  /** The ephemeral answers `user` got in `thread` whose text matches. */
  function answersTo(thread: string, user: SlackUser, match: RegExp): FakeEphemeral[] {
    const t = parseSlackThread(thread);
    return h.slack.state.ephemeral.filter(
      (e) => e.user === user.id && e.channel === t.channel && e.threadTs === t.threadTs && match.test(shownText(e)),
    );
  }
  const answerTo = (thread: string, user: SlackUser, match: RegExp) =>
    waitFor(`a private answer to ${user.name} matching ${match}`, () => answersTo(thread, user, match)[0]);

  const view = async (id: string) => (await agent.call('GET', `/v1/handoffs/${id}`)).body;
  const settled = (id: string) =>
    waitFor(`${id} to settle`, async () => {
      const v = await view(id);
      return v.status === 'awaiting_human' || v.status === 'pending' ? undefined : v;
    });

  return { send, ask, requestMessage, clickOf, denyWithModal, answersTo, answerTo, view, settled };
}
