import type { ActionsBlock, Button } from '@slack/web-api';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { denyModal } from './slack-deny-modal.js';
import type { SlackInteractionOutcome } from './slack-interactions.js';
import { isHandoffId, isText, slackPerson } from './slack-payload.js';
import { parseSlackThread, slackClickMessageId, slackThreadRef } from './slack-thread.js';

/**
 * The buttons whose value is a handoff id and nothing else: Approve and Deny on an approval
 * request (issue #13), New link on a login request (issue #14). What comes back in a click is
 * untrusted: the value must look like a handoff id, and the thread is the one Slack says the
 * clicked message is in (the payload's container, signed), never one the value names. The
 * engine then takes the click only for a handoff of that very thread
 * (src/engine/approval-reply.ts `clickedHandoff`), through the same path as the text reply it
 * stands for: `approve` as the clicker's vote (approver rules, self-approval, quorum, dedupe,
 * audit), `new link` as their request for a fresh link (src/engine/fresh-link.ts: approvers
 * only, at most three, audited). What concerns the clicker alone is answered privately.
 */
export const approvalActionIds = { approve: 'handoff_approve', deny: 'handoff_deny' } as const;
/** The New link button on a login request whose service link or code can time out. */
export const newLinkActionId = 'handoff_new_link';

/** The reply each button stands for (Deny opens a modal first: slack-deny-modal.ts). */
const clickTexts: Readonly<Record<string, string>> = {
  [approvalActionIds.approve]: 'approve',
  [newLinkActionId]: 'new link',
};

/** Slack's trigger ids: digits, dots and hex ("13345224609.738474920.8088930838d88f008e0"). */
const triggerIdPattern = /^[0-9]{1,20}\.[0-9]{1,20}\.[0-9a-f]{8,64}$/i;

/** The buttons under an approval request. */
export function approvalButtons(handoffId: string): ActionsBlock {
  return {
    type: 'actions',
    block_id: 'handoff_decide',
    elements: [
      {
        type: 'button',
        action_id: approvalActionIds.approve,
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value: handoffId,
      },
      {
        type: 'button',
        action_id: approvalActionIds.deny,
        text: { type: 'plain_text', text: 'Deny' },
        style: 'danger',
        value: handoffId,
      },
    ],
  };
}

/**
 * The block the login request's buttons sit in names the link version it shows (`block_id`,
 * which Slack hands back with a click): a click on an older request then asks nothing new.
 */
export const loginActionsBlockId = (freshLink: { readonly version: number }) => ({
  block_id: `handoff_login_v${freshLink.version}`,
});
const loginBlockIdPattern = /^handoff_login_v([0-9]{1,4})$/;

/** Asks for a fresh link to the service (the same request as a `new link` reply). */
export function newLinkButton(handoffId: string): Button {
  return {
    type: 'button',
    action_id: newLinkActionId,
    text: { type: 'plain_text', text: 'New link' },
    value: handoffId,
  };
}

/** The part of a `block_actions` payload a click on one of these buttons needs. */
export interface ClickPayload {
  readonly trigger_id?: unknown;
  readonly user?: { readonly id?: unknown; readonly username?: unknown; readonly name?: unknown };
  readonly container?: { readonly channel_id?: unknown; readonly thread_ts?: unknown };
  readonly message?: { readonly thread_ts?: unknown };
  readonly actions?: ReadonlyArray<{
    readonly action_id?: unknown;
    readonly block_id?: unknown;
    readonly value?: unknown;
  }>;
}

/** The thread the clicked message is in, from Slack's own container fields. */
function clickedThread(payload: ClickPayload): string | undefined {
  const channel = payload.container?.channel_id;
  const threadTs = payload.container?.thread_ts ?? payload.message?.thread_ts;
  if (!isText(channel) || !isText(threadTs)) return undefined;
  try {
    return parseSlackThread(slackThreadRef(channel, threadTs)).ref;
  } catch {
    return undefined;
  }
}

/** A click on Approve, Deny or New link; undefined when the payload holds none (another button). */
export function handoffButtonClick(payload: ClickPayload, receivedAt: number): SlackInteractionOutcome | undefined {
  const action = payload.actions?.find(
    (a) =>
      a.action_id === approvalActionIds.deny ||
      (typeof a.action_id === 'string' && Object.hasOwn(clickTexts, a.action_id)),
  );
  if (!action) return undefined;
  const ignored = (reason: string): SlackInteractionOutcome => ({ kind: 'ignored', reason });
  const handoffId = action.value;
  if (!isHandoffId(handoffId)) return ignored('malformed handoff button value');
  const thread = clickedThread(payload);
  const person = slackPerson(payload.user);
  const triggerId = payload.trigger_id;
  if (!thread || !person || !isText(triggerId) || !triggerIdPattern.test(triggerId))
    return ignored('malformed handoff button click');
  if (action.action_id === approvalActionIds.deny)
    return { kind: 'open_modal', triggerId, view: denyModal({ thread, handoffId }) };
  // Each click has its own trigger id: a replayed payload is one delivery, a second click another
  // (which the vote count takes once, and a fresh link only when it came after the link shown).
  const id = slackClickMessageId(triggerId);
  const version = isText(action.block_id) ? loginBlockIdPattern.exec(action.block_id)?.[1] : undefined;
  const reply: InboundReply = {
    platform: 'slack',
    thread,
    handoffId,
    answerPrivately: true,
    ...(action.action_id === newLinkActionId && version !== undefined ? { linkVersion: Number(version) } : {}),
    author: person,
    text: clickTexts[action.action_id as string]!,
    messageRef: { platform: 'slack', thread, id },
    deliveryId: id,
    receivedAt,
  };
  return { kind: 'reply', reply };
}
