import type { View } from '@slack/web-api';
import { maxReasonLength } from '../../src/core/approval.js';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import type { SlackInteractionOutcome } from './slack-interactions.js';
import { isHandoffId, isText, parseJsonField, slackPerson } from './slack-payload.js';
import { parseSlackThread, slackViewMessageId } from './slack-thread.js';

/**
 * The modal behind Deny (issue #13): an optional reason, then a deny vote by whoever submits
 * it, for the handoff and thread the click named. The view's metadata is the bridge's own
 * (Slack hands it back untouched in a signed payload); the reason is the person's words and is
 * shown as such wherever it appears.
 */
export const denyModalCallbackId = 'handoff_deny';
/** block_id and action_id of the reason input: `state.values.reason.reason.value`. */
export const denyReasonInputId = 'reason';

export interface DenyModalMetadata {
  /** Canonical ref of the thread the clicked request is in. */
  readonly thread: string;
  readonly handoffId: string;
}

export function denyModal(metadata: DenyModalMetadata): View {
  return {
    type: 'modal',
    callback_id: denyModalCallbackId,
    private_metadata: JSON.stringify({ thread: metadata.thread, handoffId: metadata.handoffId }),
    title: { type: 'plain_text', text: 'Deny the request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: denyReasonInputId,
        optional: true,
        label: { type: 'plain_text', text: 'Reason (optional)' },
        hint: { type: 'plain_text', text: 'Shown in the thread and passed to the agent.' },
        element: {
          type: 'plain_text_input',
          action_id: denyReasonInputId,
          multiline: true,
          max_length: maxReasonLength,
        },
      },
    ],
  };
}

interface SubmissionPayload {
  readonly user?: { readonly id?: unknown; readonly username?: unknown; readonly name?: unknown };
  readonly view?: {
    readonly id?: unknown;
    readonly private_metadata?: unknown;
    readonly state?: {
      readonly values?: Record<string, Record<string, { readonly value?: unknown } | undefined> | undefined>;
    };
  };
}

function metadataOf(text: unknown): DenyModalMetadata | undefined {
  const parsed = parseJsonField<{ thread?: unknown; handoffId?: unknown }>(text);
  if (!parsed || !isText(parsed.thread) || !isHandoffId(parsed.handoffId)) return undefined;
  try {
    return { thread: parseSlackThread(parsed.thread).ref, handoffId: parsed.handoffId };
  } catch {
    return undefined;
  }
}

/**
 * A submitted deny modal as a reply "deny <reason>" for its handoff. The reason goes on one line
 * (the decision is read from the first line); the view id makes a resubmission one delivery.
 */
export function denySubmission(payload: SubmissionPayload, receivedAt: number): SlackInteractionOutcome {
  const view = payload.view;
  const metadata = metadataOf(view?.private_metadata);
  const author = slackPerson(payload.user);
  if (!metadata || !isText(view?.id) || !author) return { kind: 'ignored', reason: 'malformed deny submission' };
  const raw = view.state?.values?.[denyReasonInputId]?.[denyReasonInputId]?.value;
  const reason = typeof raw === 'string' ? raw.replace(/\s+/g, ' ').trim().slice(0, maxReasonLength) : '';
  const id = slackViewMessageId(view.id);
  const reply: InboundReply = {
    platform: 'slack',
    thread: metadata.thread,
    handoffId: metadata.handoffId,
    answerPrivately: true,
    author,
    text: reason ? `deny ${reason}` : 'deny',
    messageRef: { platform: 'slack', thread: metadata.thread, id },
    deliveryId: id,
    receivedAt,
  };
  // Closes the modal: the outcome appears in the thread, a refusal privately.
  return { kind: 'reply', reply, ack: { response_action: 'clear' } };
}
