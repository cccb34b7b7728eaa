import type { View } from '@slack/web-api';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { slackActionIds, type PasteCodeValue } from './slack-format.js';
import { codeInputId, codeModal, codeModalCallbackId, type CodeModalMetadata } from './slack-modal.js';
import { parseSlackThread, slackViewMessageId } from './slack-thread.js';

/**
 * Interaction payloads (form field `payload` over HTTP, the `interactive` frame's payload over
 * Socket Mode) turned into what the bridge does about them: open the code modal, take a code
 * submitted through it, or nothing. Slack does not retry interactions; a submission is
 * identified by its view id, so a resubmitted view is still one reply.
 */
export type SlackInteractionOutcome =
  | { readonly kind: 'open_modal'; readonly triggerId: string; readonly view: View }
  | { readonly kind: 'reply'; readonly reply: InboundReply }
  | { readonly kind: 'ignored'; readonly reason: string };

interface InteractionPayload {
  readonly type?: unknown;
  readonly trigger_id?: unknown;
  readonly user?: { readonly id?: unknown; readonly username?: unknown; readonly name?: unknown };
  readonly actions?: ReadonlyArray<{ readonly action_id?: unknown; readonly value?: unknown }>;
  readonly view?: {
    readonly id?: unknown;
    readonly callback_id?: unknown;
    readonly private_metadata?: unknown;
    readonly state?: { readonly values?: Record<string, Record<string, { readonly value?: unknown }>> };
  };
}

const str = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const handoffIdPattern = /^hf_[A-Za-z0-9]{1,64}$/;
const ignored = (reason: string): SlackInteractionOutcome => ({ kind: 'ignored', reason });

function parseJson<T>(text: unknown): T | undefined {
  if (!str(text)) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The thread ref carried in a button or a view, if it is a valid Slack thread. */
function threadOf(ref: unknown): string | undefined {
  if (!str(ref)) return undefined;
  try {
    return parseSlackThread(ref).ref;
  } catch {
    return undefined;
  }
}

function fromBlockActions(payload: InteractionPayload): SlackInteractionOutcome {
  const paste = payload.actions?.find((a) => a.action_id === slackActionIds.pasteCode);
  if (!paste) return ignored('no action for the bridge');
  const value = parseJson<PasteCodeValue>(paste.value);
  const thread = threadOf(value?.thread);
  if (!value || !thread || !str(value.handoffId) || !handoffIdPattern.test(value.handoffId) || !str(payload.trigger_id))
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
  if (view?.callback_id !== codeModalCallbackId) return ignored('not the code modal');
  const metadata = parseJson<CodeModalMetadata>(view.private_metadata);
  const thread = threadOf(metadata?.thread);
  const text = view.state?.values?.[codeInputId]?.[codeInputId]?.value;
  const user = payload.user;
  if (!thread || !str(view.id) || !str(user?.id) || !str(text)) return ignored('malformed code submission');
  const name = str(user.username) ? user.username : str(user.name) ? user.name : undefined;
  const id = slackViewMessageId(view.id);
  // The view is the bridge's own (Slack hands its metadata back untouched, in a signed
  // payload): its handoff is the one the person clicked "Paste finish code" on.
  const handoffId =
    str(metadata?.handoffId) && handoffIdPattern.test(metadata.handoffId) ? metadata.handoffId : undefined;
  return {
    kind: 'reply',
    reply: {
      platform: 'slack',
      thread,
      ...(handoffId ? { handoffId } : {}),
      author: { id: user.id, ...(name ? { name } : {}) },
      text,
      messageRef: { platform: 'slack', thread, id },
      deliveryId: id,
      receivedAt,
    },
  };
}

export function parseInteraction(payload: unknown, receivedAt: number): SlackInteractionOutcome {
  if (typeof payload !== 'object' || payload === null) return ignored('not an object');
  const p = payload as InteractionPayload;
  switch (p.type) {
    case 'block_actions':
      return fromBlockActions(p);
    case 'view_submission':
      return fromViewSubmission(p, receivedAt);
    default:
      return ignored(`interaction type ${String(p.type).slice(0, 40)}`);
  }
}
