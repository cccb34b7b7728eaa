import { maxFreshLinks, type HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ApprovalRequestMessage } from '../core/messages.js';
import { say, value, type Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';
import { serviceLabel } from './notices.js';

/**
 * The approval request a handoff posts: built from the record (never from a secret), sent
 * privately to each named approver where the platform can, and into the thread. Used when a
 * login starts and again when the protocol restarts it with fresh instructions.
 */
export function approvalMessage(
  record: HandoffRecord,
  extraNotes: readonly (Sentence | undefined)[] = [],
): ApprovalRequestMessage {
  const reopened = record.previousHandoffId
    ? say`🔁 The earlier login to ${serviceLabel(record)} (handoff ${value(record.previousHandoffId)}) stopped working: the session expired or was rejected. Approve again here.`
    : undefined;
  const notes = [reopened, ...extraNotes, record.note].filter((n): n is Sentence => n !== undefined && n.length > 0);
  return {
    kind: 'approval_request',
    handoffId: record.id,
    ...(record.serviceName ? { serviceName: record.serviceName } : {}),
    handoffTag: handoffTag(record.id),
    serviceUrl: record.service,
    agentId: record.agentId,
    scopes: record.scopes,
    ...(record.approvalUrl ? { approvalUrl: record.approvalUrl } : {}),
    answer: record.answer!,
    expiresAt: record.expiresAt,
    approvers: record.approvers,
    ...(record.userCode ? { userCode: record.userCode } : {}),
    // A link or code of the service's can time out; a person may then ask for another.
    ...(record.approvalUrl && (record.freshLinks ?? 0) < maxFreshLinks
      ? { freshLink: { version: record.restarts ?? 0 } }
      : {}),
    ...(record.serviceLogoUrl ? { serviceLogoUrl: record.serviceLogoUrl } : {}),
    ...(notes.length ? { notes } : {}),
  };
}

/**
 * Queues the approval request. `dedupeKey` makes a retried send a no-op; it must differ for a
 * restarted login (the same key would swallow the new instructions).
 */
export async function postApproval(
  deps: EngineDeps,
  message: ApprovalRequestMessage,
  record: HandoffRecord,
  people: readonly Person[],
  dedupeKey: string,
): Promise<{ privately: boolean }> {
  const { adapter } = deps.adapters.parse(record.thread);
  // Only a link is worth sending privately: without one (approval on the person's own device) the thread copy says all.
  const privately = message.approvalUrl !== undefined && adapter.postPrivately !== undefined && people.length > 0;
  if (privately) {
    for (const person of people) {
      await deps.outbox.send(
        { kind: 'post', handoffId: record.id, thread: record.thread, message, to: person, critical: true },
        { dedupeKey: `${dedupeKey}-private-${person.id}` },
      );
    }
  }
  await deps.outbox.send(
    {
      kind: 'post',
      handoffId: record.id,
      thread: record.thread,
      message: privately ? { ...message, linkSentPrivately: true } : message,
      critical: true,
    },
    { dedupeKey },
  );
  return { privately };
}
