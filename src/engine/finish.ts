import type { AuditOrigin } from '../core/caller.js';
import type { HandoffRecord, HandoffStatus, TerminalStatus } from '../core/handoff.js';
import type { NoticeMessage } from '../core/messages.js';
import type { HandoffPatch } from '../store/handoff-codec.js';
import { endingAuditDetail } from '../store/audit-log.js';
import type { TransitionResult } from '../store/handoff-store.js';
import { queueRequestEdit } from './approval-edit.js';
import type { EngineDeps } from './engine-deps.js';
import type { OutboundAction } from './ports.js';

/**
 * Ends a handoff: the atomic transition to a terminal status (which also appends the ending
 * to the agent's feed, where the agent's resumer learns of it, and its `handoff.<status>`
 * entry to the audit stream, so a crash cannot leave one without the other), then the
 * consequences that every ending shares — the protocol secret is deleted, the audit sink gets
 * its copy, the thread is told (an approval's request is edited to show its outcome too), and
 * the driver job, which has nothing left to do, is dropped (a running one ends by itself).
 */
export async function finishHandoff(
  deps: EngineDeps,
  record: HandoffRecord,
  to: TerminalStatus,
  options: {
    set?: HandoffPatch;
    notice?: (finished: HandoffRecord) => NoticeMessage;
    /** More outbound actions of the ending (a reaction, a redaction), queued with the notice (one write to Redis). */
    alsoSend?: (finished: HandoffRecord) => readonly OutboundAction[];
    /** Who ended it, when nobody calls through the API (a person's id, `bridge:poll`); default `bridge`. */
    actor?: string;
    /** Who ended it through the API (the caller, source address, request id). */
    origin?: AuditOrigin;
    /** A completed login's credential scopes, for the agent's feed entry (TransitionRequest.credentialScopes). */
    credentialScopes?: readonly string[];
    expectVersion?: number;
    /** Statuses it may end from; default every status that may reach `to` (an approval's timeout-deny names its own). */
    from?: readonly HandoffStatus[];
  },
): Promise<TransitionResult> {
  const origin = options.origin ?? { actor: options.actor ?? 'bridge' };
  const result = await deps.store.transition(record.id, {
    to,
    ...(options.from ? { from: options.from } : {}),
    agentId: record.agentId,
    thread: record.thread,
    ...(options.expectVersion !== undefined ? { expectVersion: options.expectVersion } : {}),
    audit: origin,
    ...(options.credentialScopes ? { credentialScopes: options.credentialScopes } : {}),
    // The login secret goes with the same transition that ends the handoff.
    set: {
      ...options.set,
      claimedBy: undefined,
      nextPollAt: undefined,
      sealedSecret: undefined,
      // A held result (a credential nobody confirmed) goes the same way.
      sealedHeld: undefined,
      confirmedBy: undefined,
      confirmedAt: undefined,
      ...(to === 'completed' ? { completedAt: deps.clock.now() } : {}),
    },
  });
  if (!result.ok) return result;
  const finished = result.record;
  const outbound: OutboundAction[] = [
    ...(options.notice
      ? [{ kind: 'post' as const, handoffId: finished.id, thread: finished.thread, message: options.notice(finished) }]
      : []),
    ...(options.alsoSend?.(finished) ?? []),
  ];
  // The consequences go together (one write to Redis), none waiting for another: the
  // transition wrote the audit stream's entry, and a crash now loses at most the sink's copy
  // (the sink has endings at most once, the stream exactly once), some of the thread's
  // messages, or the drop of a driver that finds the ending itself.
  await Promise.all([
    deps.audit.copyToSink({
      event: `handoff.${to}`,
      handoffId: finished.id,
      agentId: finished.agentId,
      correlationId: finished.correlationId,
      ...origin,
      detail: endingAuditDetail(finished),
    }),
    // An approval's request, edited to show how it ended.
    queueRequestEdit(deps, finished),
    outbound.length > 0 ? deps.outbox.sendAll(outbound) : undefined,
    deps.jobs.ended(finished.id),
  ]);
  deps.logger.info('handoff finished', {
    handoffId: finished.id,
    status: to,
    ...(finished.error ? { error: finished.error.code } : {}),
  });
  return result;
}
