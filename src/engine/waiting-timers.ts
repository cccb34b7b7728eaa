import { pollingAgain, type HandoffRecord } from '../core/handoff.js';
import type { NoticeMessage } from '../core/messages.js';
import type { WaitingTimerKind } from '../core/waiting.js';
import type { HandoffPatch } from '../store/handoff-codec.js';
import type { EngineDeps } from './engine-deps.js';
import { escalateStep } from './escalation.js';
import { waitingNotices } from './waiting-notices.js';

/**
 * The driver's step for a timer that came due while a handoff waits (src/core/waiting.ts). The
 * message is queued first under a key naming the timer's occurrence, then the record moves past
 * it with a compare-and-set on the version read: a retry, a second driver run or a change that
 * raced the step (a vote, a reply) re-reads and queues the same key, which the outbox drops. So
 * each reminder is said once, and none once the handoff has left `awaiting_human`.
 */
export async function fireWaitingTimer(deps: EngineDeps, record: HandoffRecord, kind: WaitingTimerKind): Promise<void> {
  const now = deps.clock.now();
  if (kind === 'escalate') return escalateStep(deps, record);
  if (kind === 'remind') {
    const plan = record.remind!;
    const n = (record.reminded ?? 0) + 1;
    const moved = await step(deps, record, waitingNotices.reminder(record, n), `remind-${record.id}-${n}`, {
      reminded: n,
      remindAt: n < plan.max ? now + plan.everyMs : undefined,
      // A reminder brings people back: a login is polled at its interval again for a while.
      ...pollingAgain(record, now),
    });
    if (moved)
      await audit(deps, record, 'handoff.reminded', { reminder: n, of: plan.max, approvers: record.approvers.length });
    return;
  }
  await step(deps, record, waitingNotices.expiryWarning(record, now), `warn-${record.id}-${record.expiresAt}`, {
    warnedFor: record.expiresAt,
  });
}

async function step(
  deps: EngineDeps,
  record: HandoffRecord,
  message: NoticeMessage,
  dedupeKey: string,
  set: HandoffPatch,
): Promise<boolean> {
  await deps.outbox.send({ kind: 'post', handoffId: record.id, thread: record.thread, message }, { dedupeKey });
  const saved = await deps.store.transition(record.id, {
    from: ['awaiting_human'],
    expectVersion: record.version,
    set,
  });
  return saved.ok;
}

async function audit(deps: EngineDeps, record: HandoffRecord, event: string, detail: Record<string, number>) {
  await deps.audit.append({
    event,
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor: 'bridge',
    detail,
  });
}
