import type { ActionsBlock } from '@slack/web-api';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { denyModal } from './slack-deny-modal.js';
import type { SlackInteractionOutcome } from './slack-interactions.js';
import { isHandoffId, isText, slackPerson } from './slack-payload.js';
import { parseSlackThread, slackClickMessageId, slackThreadRef } from './slack-thread.js';

/**
 * Approve and Deny on an approval request (issue #13). Each button's value is the handoff id
 * and nothing else. What comes back in a click is untrusted: the value must look like a
 * handoff id, and the thread is the one Slack says the clicked message is in (the payload's
 * container, signed), never one the value names. The engine then takes the click only for an
 * approval of that very thread (src/engine/approval-reply.ts), as the clicker's vote through
 * the same path as a text reply: approver rules, self-approval, quorum, dedupe and audit.
 */
export const approvalActionIds = { approve: 'handoff_approve', deny: 'handoff_deny' } as const;

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

/** The part of a `block_actions` payload a click on Approve or Deny needs. */
export interface ClickPayload {
  readonly trigger_id?: unknown;
  readonly user?: { readonly id?: unknown; readonly username?: unknown; readonly name?: unknown };
  readonly container?: { readonly channel_id?: unknown; readonly thread_ts?: unknown };
  readonly message?: { readonly thread_ts?: unknown };
  readonly actions?: ReadonlyArray<{ readonly action_id?: unknown; readonly value?: unknown }>;
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

/** A click on Approve or Deny; undefined when the payload holds neither (another button). */
export function approvalClick(payload: ClickPayload, receivedAt: number): SlackInteractionOutcome | undefined {
  const action = payload.actions?.find(
    (a) => a.action_id === approvalActionIds.approve || a.action_id === approvalActionIds.deny,
  );
  if (!action) return undefined;
  const ignored = (reason: string): SlackInteractionOutcome => ({ kind: 'ignored', reason });
  const handoffId = action.value;
  if (!isHandoffId(handoffId)) return ignored('malformed approval button value');
  const thread = clickedThread(payload);
  const person = slackPerson(payload.user);
  const triggerId = payload.trigger_id;
  if (!thread || !person || !isText(triggerId) || !triggerIdPattern.test(triggerId))
    return ignored('malformed approval click');
  if (action.action_id === approvalActionIds.deny)
    return { kind: 'open_modal', triggerId, view: denyModal({ thread, handoffId }) };
  // Each click has its own trigger id: a replayed payload is one delivery, a second click another
  // (which the vote count takes once).
  const id = slackClickMessageId(triggerId);
  const reply: InboundReply = {
    platform: 'slack',
    thread,
    handoffId,
    answerPrivately: true,
    author: person,
    text: 'approve',
    messageRef: { platform: 'slack', thread, id },
    deliveryId: id,
    receivedAt,
  };
  return { kind: 'reply', reply };
}
