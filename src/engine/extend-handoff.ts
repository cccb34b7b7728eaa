import type { AuditOrigin } from '../core/caller.js';
import { BadInputError, ConflictError } from '../core/errors.js';
import { isTerminal, type HandoffRecord } from '../core/handoff.js';
import { formatUtc } from '../core/messages.js';
import type { EngineDeps } from './engine-deps.js';
import { waitingNotices } from './waiting-notices.js';

/** Times an agent may give one handoff more time: each one tells the thread. */
export const maxExtensions = 5;

/**
 * More time for a handoff nobody has answered yet (issue #14): the agent that owns it (the
 * route checks that) moves its expiry to `expiresInMs` from now — never past the bridge's
 * longest lifetime counted from the request (HANDOFF_MAX_EXPIRES_IN_MS), never past the
 * service's own login link or code, never closer than it was. The thread is told, the driver
 * re-parks for the new expiry, and a new expiry warning follows it. A compare-and-set on the
 * version read: of many calls racing, each counted extension was checked against the record it
 * changed, so `maxExtensions` holds under a flood.
 */
export async function extendHandoff(
  deps: EngineDeps,
  id: string,
  expiresInMs: number,
  origin: AuditOrigin,
): Promise<HandoffRecord> {
  for (let pass = 0; pass < 5; pass++) {
    const record = await deps.store.get(id);
    if (!record) break;
    const now = deps.clock.now();
    const expiresAt = now + expiresInMs;
    check(deps, record, expiresAt, now);
    const extensions = (record.extensions ?? 0) + 1;
    const saved = await deps.store.transition(id, {
      from: ['pending', 'awaiting_human', 'claiming'],
      expectVersion: record.version,
      set: { expiresAt, extensions },
    });
    if (!saved.ok) continue; // changed meanwhile (a vote, a reply, another extension): check again
    const extended = saved.record;
    await deps.agentLimits.extend(extended.agentId, extended.id, expiresAt);
    await deps.audit.append({
      event: 'handoff.extended',
      handoffId: id,
      agentId: extended.agentId,
      correlationId: extended.correlationId,
      ...origin,
      detail: { expiresAt, extensions },
    });
    await deps.outbox.send(
      { kind: 'post', handoffId: id, thread: extended.thread, message: waitingNotices.extended(extended) },
      { dedupeKey: `extend-${id}-${extensions}` },
    );
    await deps.jobs.wake(id);
    return extended;
  }
  throw new ConflictError(
    'This handoff is changing right now (a reply or another extension); try again in a moment.',
    'handoff_busy',
  );
}

function check(deps: EngineDeps, record: HandoffRecord, expiresAt: number, now: number): void {
  if (isTerminal(record.status)) {
    throw new ConflictError(`Handoff ${record.id} already ended (${record.status}).`, 'handoff_finished', {
      status: record.status,
    });
  }
  const field = { field: 'expiresInMs' };
  const latest = record.createdAt + deps.policy.maxExpiresInMs;
  if (expiresAt > latest) {
    throw new BadInputError(
      `A handoff may wait at most ${deps.policy.maxExpiresInMs} ms from its request (the bridge's HANDOFF_MAX_EXPIRES_IN_MS): give this one at most ${Math.max(0, latest - now)} ms from now.`,
      { code: 'extend_beyond_maximum', details: { ...field, maxExpiresInMs: Math.max(0, latest - now) } },
    );
  }
  if (record.serviceExpiresAt !== undefined && expiresAt > record.serviceExpiresAt) {
    throw new BadInputError(
      `The service's own login link or code for this handoff stops working at ${formatUtc(record.serviceExpiresAt)}: give it at most ${Math.max(0, record.serviceExpiresAt - now)} ms from now.`,
      {
        code: 'extend_beyond_service',
        details: { ...field, maxExpiresInMs: Math.max(0, record.serviceExpiresAt - now) },
      },
    );
  }
  if (expiresAt <= record.expiresAt) {
    throw new BadInputError(
      `expiresInMs must give more time: the handoff already waits until ${formatUtc(record.expiresAt)} (${record.expiresAt - now} ms from now).`,
      { code: 'extend_not_later', details: field },
    );
  }
  if ((record.extensions ?? 0) >= maxExtensions) {
    throw new ConflictError(
      `This handoff was given more time ${maxExtensions} times already, the most there is; ask again with a new request if it runs out.`,
      'too_many_extensions',
      { extensions: record.extensions },
    );
  }
}
