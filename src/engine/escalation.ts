import { HandoffError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { Person } from '../core/thread-adapter.js';
import { linkTarget } from '../core/untrusted-text.js';
import { approvalMessage } from './approval-message.js';
import type { EngineDeps } from './engine-deps.js';
import { waitingNotices } from './waiting-notices.js';

/**
 * An escalation step that came due (issue #14): its people become approvers too — the others
 * keep answering — and are told in the handoff's thread and, when the step names one, in its
 * own thread, pointing back (with a link to the thread where its platform gives one). A login whose link went privately to its approvers sends it
 * privately to the new ones as well. Each message is queued under a key naming the step, and
 * the record moves past the step with a compare-and-set on the version read, so a retry or a
 * raced change says nothing twice.
 *
 * A handoff whose approvers were left to the platform's rule (none named) keeps that rule: the
 * step's people are told, but naming them would shut out everyone the rule admits.
 */
export async function escalateStep(deps: EngineDeps, record: HandoffRecord): Promise<void> {
  const n = (record.escalated ?? 0) + 1;
  const step = record.escalate![n - 1]!;
  const people = await resolve(deps, record, step.approvers);
  const added = people.map((p) => p.id).filter((id) => !record.approvers.includes(id));
  const approvers = record.approvers.length ? [...record.approvers, ...added] : record.approvers;
  const escalated = { ...record, approvers };
  const key = `escalate-${record.id}-${n}`;
  if (added.length) {
    await deps.outbox.send(
      {
        kind: 'post',
        handoffId: record.id,
        thread: record.thread,
        message: waitingNotices.escalated(escalated, added),
      },
      { dedupeKey: key },
    );
    const { adapter } = deps.adapters.parse(record.thread);
    if (record.kind === 'login' && record.approvalUrl && record.answer && adapter.postPrivately) {
      for (const person of people.filter((p) => added.includes(p.id))) {
        await deps.outbox.send(
          {
            kind: 'post',
            handoffId: record.id,
            thread: record.thread,
            message: approvalMessage(escalated),
            to: person,
          },
          { dedupeKey: `${key}-private-${person.id}` },
        );
      }
    }
  }
  if (step.thread) {
    await deps.outbox.send(
      {
        kind: 'post',
        handoffId: record.id,
        thread: step.thread,
        message: waitingNotices.escalatedElsewhere(escalated, step.approvers, await linkBack(deps, record)),
      },
      { dedupeKey: `${key}-elsewhere` },
    );
  }
  const saved = await deps.store.transition(record.id, {
    from: ['awaiting_human'],
    expectVersion: record.version,
    set: { escalated: n, approvers },
  });
  if (!saved.ok) return;
  await deps.audit.append({
    event: 'handoff.escalated',
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor: 'bridge',
    detail: { step: n, added: added.length, elsewhere: step.thread !== undefined },
  });
}

/**
 * The web address of the handoff's thread, when its platform has one to give (http(s) only).
 * The notice goes without it when the platform cannot say: a link is a convenience, the
 * thread's ref is in the text either way.
 */
async function linkBack(deps: EngineDeps, record: HandoffRecord): Promise<string | undefined> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  try {
    const link = linkTarget(await adapter.threadLink?.(thread));
    return link && link.href.length <= 2_000 ? link.href : undefined;
  } catch (err) {
    deps.logger.warn('no link back to the thread', { handoffId: record.id, error: err });
    return undefined;
  }
}

/**
 * The step's people as platform ids, checked to exist where the platform can tell. One the
 * platform does not know is left out (and logged) rather than failing the handoff; trouble
 * reaching the platform is retried by the driver's job.
 */
async function resolve(deps: EngineDeps, record: HandoffRecord, handles: readonly string[]): Promise<Person[]> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  if (!adapter.resolvePerson) return handles.map((id) => ({ id }));
  const found: Person[] = [];
  for (const handle of handles) {
    try {
      found.push(await adapter.resolvePerson(thread, handle));
    } catch (err) {
      if (err instanceof HandoffError && err.retry !== 'never') throw err;
      deps.logger.warn('escalation approver not found', { handoffId: record.id, error: err });
    }
  }
  return found;
}
