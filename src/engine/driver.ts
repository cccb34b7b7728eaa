import { HandoffError } from '../core/errors.js';
import {
  backgroundPollDelay,
  nextDriverStep,
  outcomeOf,
  type HandoffOutcome,
  type HandoffRecord,
} from '../core/handoff.js';
import type { PollResult, ProtocolSecret } from '../core/login-protocol.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import { startApproval, timeOutApproval } from './approval-driver.js';
import { claimWithAnswer } from './claim.js';
import { claimLeaseMs } from './claim-lease.js';
import type { EngineDeps } from './engine-deps.js';
import { openLoginSecret, sealLoginSecret } from './login-secret.js';
import { finishHandoff } from './finish.js';
import { notices } from './notices.js';
import { fromService, serviceTurn, type Turn } from './service-turn.js';
import { startStep } from './start-login.js';
import { fireWaitingTimer } from './waiting-timers.js';

/** Longest one background poll may take, retries included, ms. */
export const pollBudgetMs = 15_000;

/**
 * The driver: what a handoff's own job does each time it runs. It starts the login, posts the
 * approval request, expires the handoff, polls the service in the background, and reports the
 * outcome. Between runs it asks to wait (the queue layer parks it as a delayed job: no
 * worker slot is held while a human thinks).
 */
export type DriverResult =
  { readonly kind: 'wait'; readonly untilMs: number } | { readonly kind: 'finish'; readonly outcome: HandoffOutcome };

export async function runDriver(deps: EngineDeps, handoffId: string, jobId: string): Promise<DriverResult> {
  // Each pass makes progress (a transition or a wait); the bound only guards against a bug.
  for (let pass = 0; pass < 8; pass++) {
    const record = await deps.store.get(handoffId);
    if (!record) {
      return {
        kind: 'finish',
        outcome: {
          handoffId,
          status: 'failed',
          error: { code: 'handoff_missing', message: 'The handoff record no longer exists.' },
        },
      };
    }
    const now = deps.clock.now();
    const step = nextDriverStep(record, now);
    switch (step.kind) {
      case 'finish':
        return step;
      case 'wait': {
        if (record.status !== 'claiming') return step;
        // The claimant renews its lease (the record's updatedAt) while its exchange runs; a
        // claim left unrenewed for a whole lease belongs to a worker that died.
        const leaseEnds = record.updatedAt + claimLeaseMs(deps);
        if (now >= leaseEnds) {
          await deps.store.transition(record.id, {
            to: 'awaiting_human',
            from: ['claiming'],
            expectVersion: record.version,
            set: { claimedBy: undefined },
          });
          continue;
        }
        return { kind: 'wait', untilMs: Math.min(step.untilMs, leaseEnds) };
      }
      case 'start':
        if (record.kind === 'approval') await startApproval(deps, record);
        else await startStep(deps, record);
        continue;
      case 'expire':
        if (record.kind === 'approval') {
          await timeOutApproval(deps, record);
          continue;
        }
        await finishHandoff(deps, record, 'expired', {
          set: { error: { code: 'expired', message: 'Nobody finished the login before it expired.' } },
          notice: notices.expired,
        });
        continue;
      case 'poll':
        await poll(deps, record, jobId);
        continue;
      case 'timer':
        await fireWaitingTimer(deps, record, step.timer);
        continue;
    }
  }
  return { kind: 'wait', untilMs: deps.clock.now() + 1_000 };
}

/** Ends a handoff whose driver cannot go on (unrecoverable error, retries exhausted). */
export async function failDriver(deps: EngineDeps, handoffId: string, err: unknown): Promise<HandoffOutcome> {
  const error =
    err instanceof HandoffError
      ? { code: err.code, message: err.message }
      : { code: 'internal_error', message: 'The bridge could not finish this login; see its logs.' };
  for (let pass = 0; pass < 3; pass++) {
    const record = await deps.store.get(handoffId);
    if (!record) return { handoffId, status: 'failed', error };
    const done = outcomeOf(record);
    if (done) return done;
    const result = await finishHandoff(deps, record, 'failed', {
      set: { error },
      notice: (r) => notices.failed(r, error.message),
    });
    if (result.ok) return outcomeOf(result.record)!;
  }
  return { handoffId, status: 'failed', error };
}

async function poll(deps: EngineDeps, record: HandoffRecord, jobId: string): Promise<void> {
  const protocol = deps.protocols.get(record.protocol);
  const interval = record.pollIntervalMs ?? deps.policy.pollIntervalMs;
  // At least `minimum` (the protocol's interval, or its slow_down), spaced out as the handoff ages.
  const after = (minimum: number) =>
    backgroundPollDelay(record, minimum, deps.policy.pollMaxIntervalMs, deps.clock.now());
  // Guarded by the version read before the poll: an approver's "done" that arrived meanwhile
  // (it asks for a poll now and vouches for it) makes this fail, and the loop polls again.
  const reschedule = (ms: number, secret?: ProtocolSecret, extra: { notBefore?: number } = {}) =>
    deps.store.transition(record.id, {
      from: ['awaiting_human'],
      expectVersion: record.version,
      set: {
        nextPollAt: deps.clock.now() + ms,
        confirmedBy: undefined,
        confirmedAt: undefined,
        ...extra,
        ...(secret ? { sealedSecret: sealLoginSecret(deps.vault, record.id, secret) } : {}),
      },
    });
  const secret = openLoginSecret(deps.vault, record);
  if (!protocol.poll || !secret) {
    await deps.store.transition(record.id, { from: ['awaiting_human'], set: { nextPollAt: undefined } });
    return;
  }
  let result: PollResult | undefined;
  let turn: Turn;
  try {
    turn = await serviceTurn(deps, record, pollBudgetMs, async (signal) => {
      result = await fromService(() =>
        protocol.poll!(secret, { agentId: record.agentId, correlationId: record.correlationId, signal }),
      );
    });
  } catch (err) {
    // A failing poll never ends a handoff: the human may still paste the code. A rate limit
    // parks every call to the service for this handoff (replies too) until it has passed.
    deps.logger.warn('background poll failed', { handoffId: record.id, error: err });
    if (err instanceof HandoffError && err.retry === 'after_delay') {
      const now = deps.clock.now();
      const wait = Math.max(rateLimitWaitMs(err.retryAfterMs, record.expiresAt - now), interval);
      await reschedule(wait, undefined, { notBefore: now + wait });
      return;
    }
    await reschedule(after(interval * 2));
    return;
  }
  // The service is busy with other handoffs, or resting after failures: look again later.
  if (turn.kind === 'busy') return void (await reschedule(after(interval)));
  if (turn.kind === 'open') return void (await reschedule(Math.max(after(interval), turn.untilMs - deps.clock.now())));
  const polled = result!;
  switch (polled.kind) {
    case 'pending':
      await reschedule(after(polled.nextPollMs ?? interval), polled.secret);
      return;
    case 'approved':
      await claimWithAnswer(
        deps,
        record,
        { code: polled.code, ...(polled.approvedBy ? { approvedBy: polled.approvedBy } : {}) },
        { kind: 'poll', jobId },
      );
      return;
    case 'wrong_code':
      await reschedule(after(interval));
      return;
    default:
      await claimWithAnswer(deps, record, { completion: polled }, { kind: 'poll', jobId });
  }
}
