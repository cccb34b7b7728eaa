import { HandoffError } from '../core/errors.js';
import { backgroundPollDelay, nextDriverStep, outcomeOf, type HandoffOutcome, type HandoffRecord } from '../core/handoff.js';
import type { ProtocolSecret } from '../core/login-protocol.js';
import type { Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import { claimLeaseMs, claimWithAnswer } from './claim.js';
import type { EngineDeps } from './engine-deps.js';
import { openLoginSecret, sealLoginSecret } from './login-secret.js';
import { approvalMessage, postApproval } from './approval-message.js';
import { finishHandoff } from './finish.js';
import { notices } from './notices.js';
import { emailForService } from './approver-binding.js';
import { resolveProtocol } from './resolve-protocol.js';
import { loginRequestFor } from './restart.js';

/**
 * The driver: what a handoff's own job does each time it runs. It starts the login, posts the
 * approval request, expires the handoff, polls the service in the background, and reports the
 * outcome. Between runs it asks to wait (the queue layer parks it as a delayed job: no
 * worker slot is held while a human thinks).
 */
export type DriverResult = { readonly kind: 'wait'; readonly untilMs: number } | { readonly kind: 'finish'; readonly outcome: HandoffOutcome };

export async function runDriver(deps: EngineDeps, handoffId: string, jobId: string): Promise<DriverResult> {
  // Each pass makes progress (a transition or a wait); the bound only guards against a bug.
  for (let pass = 0; pass < 8; pass++) {
    const record = await deps.store.get(handoffId);
    if (!record) {
      return { kind: 'finish', outcome: { handoffId, status: 'failed', error: { code: 'handoff_missing', message: 'The handoff record no longer exists.' } } };
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
          await deps.store.transition(record.id, { to: 'awaiting_human', from: ['claiming'], expectVersion: record.version, set: { claimedBy: undefined } });
          continue;
        }
        return { kind: 'wait', untilMs: Math.min(step.untilMs, leaseEnds) };
      }
      case 'start':
        await start(deps, record);
        continue;
      case 'expire':
        await finishHandoff(deps, record, 'expired', {
          set: { error: { code: 'expired', message: 'Nobody finished the login before it expired.' } },
          notice: notices.expired,
        });
        continue;
      case 'poll':
        await poll(deps, record, jobId);
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
    const result = await finishHandoff(deps, record, 'failed', { set: { error }, notice: (r) => notices.failed(r, error.message) });
    if (result.ok) return outcomeOf(result.record)!;
  }
  return { handoffId, status: 'failed', error };
}

async function resolveApprovers(deps: EngineDeps, record: HandoffRecord): Promise<{ approvers: string[]; people: Person[] }> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  if (!adapter.resolvePerson) return { approvers: [...record.approvers], people: record.approvers.map((id) => ({ id })) };
  const people = await Promise.all(record.approvers.map((handle) => adapter.resolvePerson!(thread, handle)));
  return { approvers: people.map((p) => p.id), people };
}

/**
 * The approvers' directory emails (kept to match whom a service says approved) and the one
 * email the service may be sent. A directory email held back is audited: the agent asked for
 * a person the bridge could have named to a service it does not trust with that.
 */
async function approverEmailsFor(deps: EngineDeps, record: HandoffRecord, people: readonly Person[]) {
  const directory = [...new Set(people.map((p) => p.email?.trim().toLowerCase()).filter((e): e is string => Boolean(e)))];
  // A protocol that never sends the email to its service needs no decision about it.
  const sends = deps.protocols.get(record.protocol).sendsApproverEmail === true;
  const { email, withheld } = sends ? emailForService(record, people, deps.policy.approverEmailServices ?? []) : { email: record.approverEmail, withheld: false };
  if (withheld) {
    await deps.audit.append({
      event: 'approver.email_withheld',
      handoffId: record.id,
      agentId: record.agentId,
      correlationId: record.correlationId,
      detail: { service: new URL(record.service).origin },
    });
  }
  return { directory, email };
}

async function start(deps: EngineDeps, pending: HandoffRecord): Promise<void> {
  const { adapter, thread } = deps.adapters.parse(pending.thread);
  let publicNote: Sentence | undefined;
  if (adapter.isPublic && (await adapter.isPublic(thread))) {
    if ((deps.policy.publicThreads?.[adapter.platform] ?? 'refuse') === 'refuse') {
      await finishHandoff(deps, pending, 'failed', {
        set: {
          error: {
            code: 'public_thread',
            message: `${pending.thread} is readable by anyone, so an approval link there could be used by anyone. Use a private thread, or ${
              deps.policy.publicThreadsHowToAllow?.[adapter.platform] ?? `allow public ${adapter.platform} threads in the bridge configuration`
            }.`,
          },
        },
      });
      return;
    }
    // Who may answer follows in the message itself (named approvers, or the platform's rule).
    publicNote = ['⚠️ People outside your organization can read this thread, and with it this link.'];
  }

  const record = await resolveProtocol(deps, pending);
  if (!record) return;
  const { approvers, people } = await resolveApprovers(deps, record);
  const protocol = deps.protocols.get(record.protocol);

  // A start that already reached the service (a retry after a crash) is reused, not repeated.
  let started = record.approvalUrl ? openLoginSecret(deps.vault, record) : undefined;
  let current = record;
  if (!started || !record.answer) {
    const { directory, email: approverEmail } = await approverEmailsFor(deps, record, people);
    const result = await protocol.start({ ...loginRequestFor(record), ...(approverEmail ? { approverEmail } : {}) });
    const expiresAt = Math.min(record.expiresAt, result.expiresAt);
    const pollIntervalMs = protocol.poll ? (result.pollIntervalMs ?? deps.policy.pollIntervalMs) : undefined;
    const saved = await deps.store.transition(record.id, {
      from: ['pending'],
      set: {
        approvalUrl: result.approvalUrl,
        answer: result.answer,
        sealedSecret: sealLoginSecret(deps.vault, record.id, result.secret),
        expiresAt,
        approvers,
        ...(approverEmail ? { approverEmail } : {}),
        ...(directory.length ? { approverEmails: directory } : {}),
        ...(result.serviceName ? { serviceName: result.serviceName } : {}),
        ...(result.serviceLogoUrl ? { serviceLogoUrl: result.serviceLogoUrl } : {}),
        ...(result.userCode ? { userCode: result.userCode } : {}),
        ...(result.note ? { note: result.note } : {}),
        ...(pollIntervalMs !== undefined ? { pollIntervalMs, nextPollAt: deps.clock.now() + pollIntervalMs } : {}),
      },
    });
    if (!saved.ok) return; // cancelled meanwhile: the next pass reports it
    current = saved.record;
    started = result.secret;
  }

  const { privately } = await postApproval(deps, approvalMessage(current, [publicNote]), current, people, `approval-${current.id}`);
  await deps.store.transition(current.id, { to: 'awaiting_human', from: ['pending'] });
  await deps.audit.append({
    // One entry for the whole start (login begun, approval request posted): entries cost
    // memory for as long as the handoff waits.
    event: 'handoff.awaiting_human',
    handoffId: current.id,
    agentId: current.agentId,
    correlationId: current.correlationId,
    detail: { protocol: current.protocol, platform: adapter.platform, private: privately },
  });
}

async function poll(deps: EngineDeps, record: HandoffRecord, jobId: string): Promise<void> {
  const protocol = deps.protocols.get(record.protocol);
  const interval = record.pollIntervalMs ?? deps.policy.pollIntervalMs;
  // At least `minimum` (the protocol's interval, or its slow_down), spaced out as the handoff ages.
  const after = (minimum: number) => backgroundPollDelay(record, minimum, deps.policy.pollMaxIntervalMs, deps.clock.now());
  // Guarded by the version read before the poll: an approver's "done" that arrived meanwhile
  // (it asks for a poll now and vouches for it) makes this fail, and the loop polls again.
  const reschedule = (ms: number, secret?: ProtocolSecret) =>
    deps.store.transition(record.id, {
      from: ['awaiting_human'],
      expectVersion: record.version,
      set: {
        nextPollAt: deps.clock.now() + ms,
        confirmedBy: undefined,
        confirmedAt: undefined,
        ...(secret ? { sealedSecret: sealLoginSecret(deps.vault, record.id, secret) } : {}),
      },
    });
  const secret = openLoginSecret(deps.vault, record);
  if (!protocol.poll || !secret) {
    await deps.store.transition(record.id, { from: ['awaiting_human'], set: { nextPollAt: undefined } });
    return;
  }
  let result;
  try {
    result = await protocol.poll(secret, { agentId: record.agentId, correlationId: record.correlationId });
  } catch (err) {
    // A failing poll never ends a handoff: the human may still paste the code.
    const wait = err instanceof HandoffError && err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, interval) : interval * 2;
    deps.logger.warn('background poll failed', { handoffId: record.id, error: err });
    await reschedule(after(wait));
    return;
  }
  switch (result.kind) {
    case 'pending':
      await reschedule(after(result.nextPollMs ?? interval), result.secret);
      return;
    case 'approved':
      await claimWithAnswer(deps, record, { code: result.code, ...(result.approvedBy ? { approvedBy: result.approvedBy } : {}) }, { kind: 'poll', jobId });
      return;
    case 'wrong_code':
      await reschedule(after(interval));
      return;
    default:
      await claimWithAnswer(deps, record, { completion: result }, { kind: 'poll', jobId });
  }
}
