import type { View } from '@slack/web-api';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { handoffButtonClick, type ClickPayload } from './slack-handoff-buttons.js';
import { denyModalCallbackId, denySubmission } from './slack-deny-modal.js';
import { slackActionIds, type PasteCodeValue } from './slack-format.js';
import {
  codeInputId,
  codeModal,
  codeModalCallbackId,
  codeReceivedModal,
  type CodeModalMetadata,
} from './slack-modal.js';
import { isHandoffId, isText as str, parseJsonField as parseJson, slackPerson } from './slack-payload.js';
import { parseSlackThread, slackViewMessageId } from './slack-thread.js';

/**
 * Interaction payloads (form field `payload` over HTTP, the `interactive` frame's payload over
 * Socket Mode) turned into what the bridge does about them: open the code modal or the deny
 * modal, take a code, a vote (an Approve click, a deny submitted through its modal) or a
 * request for a fresh link (a New link click), or nothing. Slack does not retry interactions; a click is identified by its trigger id and a
 * submission by its view id, so a replayed payload is still one reply.
 */
export type SlackInteractionOutcome =
  | { readonly kind: 'open_modal'; readonly triggerId: string; readonly view: View }
  /** `ack`: the body to answer Slack with (a view submission's response_action). */
  | { readonly kind: 'reply'; readonly reply: InboundReply; readonly ack?: unknown }
  | { readonly kind: 'ignored'; readonly reason: string };

interface InteractionPayload extends ClickPayload {
  readonly type?: unknown;
  readonly view?: {
    readonly id?: unknown;
    readonly callback_id?: unknown;
    readonly private_metadata?: unknown;
    readonly state?: { readonly values?: Record<string, Record<string, { readonly value?: unknown }>> };
  };
}

const ignored = (reason: string): SlackInteractionOutcome => ({ kind: 'ignored', reason });

/** The thread ref carried in a button or a view, if it is a valid Slack thread. */
function threadOf(ref: unknown): string | undefined {
  if (!str(ref)) return undefined;
  try {
    return parseSlackThread(ref).ref;
  } catch {
    return undefined;
  }
}

function fromBlockActions(payload: InteractionPayload, receivedAt: number): SlackInteractionOutcome {
  const clicked = handoffButtonClick(payload, receivedAt);
  if (clicked) return clicked;
  const paste = payload.actions?.find((a) => a.action_id === slackActionIds.pasteCode);
  if (!paste) return ignored('no action for the bridge');
  const value = parseJson<PasteCodeValue>(paste.value);
  const thread = threadOf(value?.thread);
  if (!value || !thread || !isHandoffId(value.handoffId) || !str(payload.trigger_id))
    return ignored('malformed paste-code button');
  const answer = value.answer === 'email_code' || value.answer === 'page_code' ? value.answer : 'finish_code';
  return {
    kind: 'open_modal',
    triggerId: payload.trigger_id,
    view: codeModal({ thread, handoffId: value.handoffId, answer }),
  };
}

function fromViewSubmission(payload: InteractionPayload, receivedAt: number): SlackInteractionOutcome {
  const view = payload.view;
  if (view?.callback_id === denyModalCallbackId) return denySubmission(payload, receivedAt);
  if (view?.callback_id !== codeModalCallbackId) return ignored('not a modal of the bridge');
  const metadata = parseJson<CodeModalMetadata>(view.private_metadata);
  const thread = threadOf(metadata?.thread);
  const text = view.state?.values?.[codeInputId]?.[codeInputId]?.value;
  const author = slackPerson(payload.user);
  if (!thread || !str(view.id) || !author || !str(text)) return ignored('malformed code submission');
  const id = slackViewMessageId(view.id);
  // The view is the bridge's own (Slack hands its metadata back untouched, in a signed
  // payload): its handoff is the one the person clicked "Paste finish code" on.
  const handoffId = isHandoffId(metadata?.handoffId) ? metadata.handoffId : undefined;
  return {
    kind: 'reply',
    reply: {
      platform: 'slack',
      thread,
      ...(handoffId ? { handoffId } : {}),
      author,
      text,
      messageRef: { platform: 'slack', thread, id },
      deliveryId: id,
      receivedAt,
    },
    ack: { response_action: 'update', view: codeReceivedModal() },
  };
}

export function parseInteraction(payload: unknown, receivedAt: number): SlackInteractionOutcome {
  if (typeof payload !== 'object' || payload === null) return ignored('not an object');
  const p = payload as InteractionPayload;
  switch (p.type) {
    case 'block_actions':
      return fromBlockActions(p, receivedAt);
    case 'view_submission':
      return fromViewSubmission(p, receivedAt);
    default:
      return ignored(`interaction type ${String(p.type).slice(0, 40)}`);
  }
}
