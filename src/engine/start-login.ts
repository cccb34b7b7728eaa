import { HandoffError, UpstreamError } from '../core/errors.js';
import { pollingFrom, type HandoffRecord } from '../core/handoff.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import type { Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import { checkApprovalLink } from './approval-link.js';
import { directoryVouchesFor, emailForService } from './approver-binding.js';
import { approvalMessage, postApproval } from './approval-message.js';
import type { EngineDeps } from './engine-deps.js';
import { finishHandoff } from './finish.js';
import { openLoginSecret, sealLoginSecret } from './login-secret.js';
import { resolveProtocol } from './resolve-protocol.js';
import { loginRequestFor } from './restart.js';
import { fromService, isServiceTransient, notBefore, serviceTurn, type Turn } from './service-turn.js';

/**
 * The driver's start step: discover the protocol, start the login, post the approval request.
 * It always ends within the start window (HANDOFF_START_TIMEOUT_MS, 30 s from the first try):
 * every call to the service is aborted at the window's end, the service's transport trouble
 * is retried by parking the handoff (`notBefore`, a delayed job: no worker waits), and once
 * the window is spent the handoff fails with the last error's code (`service_timeout`,
 * `service_unreachable`…). A rate limit parks it for as long as asked (capped at the expiry
 * and 15 min), with a fresh window after. A service whose slots are all taken by other
 * handoffs (src/store/service-gate.ts) makes this one wait its turn in line, parked, not in a
 * worker: the slot given back wakes the oldest waiter. A slot is held only while the service
 * is called (discovery and the login's start), never while the platform is asked or posted to.
 */

/**
 * How long a handoff waiting in line for a busy service looks again by itself, ms, should its
 * wake-up never come (the slot's holder died and its lease ran out). Up to twice that with
 * jitter; never past the start window's last second.
 */
export const busyServiceWaitMs = 10_000;

/** A start that waits in line tries once more at least this long before its window ends, ms. */
const lastTryMs = 1_000;

/** Backoff between start attempts: half the time spent so far, 1–10 s. */
const backoffMs = (spentMs: number) => Math.min(10_000, Math.max(1_000, spentMs / 2)) * (0.8 + Math.random() * 0.4);

/** The failure to report when the window is spent; `discovery_timeout` is the service not answering in time. */
function finalError(err: HandoffError): UpstreamError {
  const code = err.code === 'discovery_timeout' ? 'service_timeout' : err.code;
  return new UpstreamError(err.message, {
    code,
    upstreamStatus: err instanceof UpstreamError ? err.upstreamStatus : 0,
    retry: 'never',
    cause: err,
  });
}

/** What the thread's platform says before the service is asked: who approves, and whether the thread is public. */
interface Prepared {
  readonly approvers: string[];
  readonly people: Person[];
  readonly publicNote: Sentence | undefined;
}

export async function startStep(deps: EngineDeps, record: HandoffRecord): Promise<void> {
  const now = deps.clock.now();
  const windowMs = deps.policy.startTimeoutMs;
  const deadline = record.startDeadline ?? now + windowMs;
  /** Try again at `at`, or fail now when that is past the window. */
  const later = async (at: number, err: HandoffError) => {
    if (at >= deadline) throw finalError(err);
    await notBefore(deps, record, at, { startDeadline: deadline });
  };
  let turn: Turn = { kind: 'ran' };
  try {
    const prepared = await prepare(deps, record);
    if (!prepared) return;
    // A start that already reached the service (a retry after a crash or a failed post) is
    // reused, not repeated: no turn at the service is needed to post it.
    let started: HandoffRecord | undefined = record.answer && openLoginSecret(deps.vault, record) ? record : undefined;
    if (!started) {
      turn = await serviceTurn(
        deps,
        { service: record.service, agentId: record.agentId, waiter: { id: record.id, since: record.createdAt } },
        // A start woken late (the line was slow, the worker busy) still gets one real try.
        Math.max(deadline - now, lastTryMs),
        async (signal) => void (started = await startAtService(deps, record, prepared, signal)),
      );
    }
    if (started) await postStart(deps, started, prepared);
  } catch (err) {
    const at = deps.clock.now();
    if (err instanceof HandoffError && err.retry === 'after_delay') {
      const wait = rateLimitWaitMs(err.retryAfterMs, record.expiresAt - at);
      deps.logger.info('handoff start rate-limited; parked', { handoffId: record.id, waitMs: wait, code: err.code });
      await notBefore(deps, record, at + wait, { startDeadline: at + wait + windowMs });
      return;
    }
    if (isServiceTransient(err)) {
      deps.logger.info('handoff start failed; will try again within its window', {
        handoffId: record.id,
        code: err.code,
      });
      await later(at + backoffMs(at - (deadline - windowMs)), err);
      return;
    }
    throw err;
  }
  if (turn.kind === 'busy') {
    const origin = new URL(record.service).origin;
    const err =
      turn.scope === 'service'
        ? new UpstreamError(
            `${origin} did not answer in time: it is slow to answer other logins too (${turn.inFlight} in flight).`,
            { code: 'service_timeout', upstreamStatus: 0 },
          )
        : new UpstreamError(
            `Agent ${record.agentId}'s other logins kept every slot it may use busy (${turn.inFlight} waiting on their services), so this login to ${origin} could not start in time.`,
            {
              code: 'agent_busy',
              upstreamStatus: 0,
            },
          );
    // In line behind a service that is answering (its last call succeeded): the wait does not
    // count against the start window, which starts again now. Behind one that is not, it does.
    const moving = turn.lastOkAt !== undefined && now - turn.lastOkAt < windowMs;
    const until = moving ? now + windowMs : deadline;
    // The slot given back wakes it (see service-turn.ts); this is only the fallback (for a
    // moving line, just before its fresh window ends: looks cost the other handoffs' workers).
    const at = moving ? until - lastTryMs : Math.min(now + busyServiceWaitMs * (1 + Math.random()), until - lastTryMs);
    if (at <= deps.clock.now()) throw finalError(err);
    // Guarded by the version read before the turn: a wake-up that came meanwhile changed the
    // record, so this fails and the driver's next pass tries again at once.
    await deps.store.transition(record.id, {
      from: ['pending'],
      expectVersion: record.version,
      set: { notBefore: Math.round(at), startDeadline: until },
    });
  } else if (turn.kind === 'open') await later(Math.max(turn.untilMs, now + 2_000), turn.error);
}

async function resolveApprovers(
  deps: EngineDeps,
  record: HandoffRecord,
): Promise<{ approvers: string[]; people: Person[] }> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  if (!adapter.resolvePerson)
    return { approvers: [...record.approvers], people: record.approvers.map((id) => ({ id })) };
  const people = await Promise.all(record.approvers.map((handle) => adapter.resolvePerson!(thread, handle)));
  return { approvers: people.map((p) => p.id), people };
}

/**
 * The approvers' directory emails (kept to match whom a service says approved) and the one
 * email the service may be sent. A directory email held back is audited: the agent asked for
 * a person the bridge could have named to a service it does not trust with that.
 */
async function approverEmailsFor(deps: EngineDeps, record: HandoffRecord, people: readonly Person[]) {
  const directory = [
    ...new Set(people.map((p) => p.email?.trim().toLowerCase()).filter((e): e is string => Boolean(e))),
  ];
  // A protocol that never sends the email to its service needs no decision about it.
  const sends = deps.protocols.get(record.protocol).sendsApproverEmail === true;
  const { email, withheld } = sends
    ? emailForService(record, people, deps.policy.approverEmailServices ?? [])
    : { email: record.approverEmail, withheld: false };
  if (withheld) {
    await deps.audit.append({
      event: 'approver.email_withheld',
      handoffId: record.id,
      agentId: record.agentId,
      correlationId: record.correlationId,
      detail: { service: new URL(record.service).origin },
    });
  }
  return { directory, email, fromDirectory: directoryVouchesFor(people, email) };
}

/** The platform's part before the service is asked; undefined when the thread is public and refused (the handoff failed). */
async function prepare(deps: EngineDeps, pending: HandoffRecord): Promise<Prepared | undefined> {
  const { adapter, thread } = deps.adapters.parse(pending.thread);
  let publicNote: Sentence | undefined;
  if (adapter.isPublic && (await adapter.isPublic(thread))) {
    if ((deps.policy.publicThreads?.[adapter.platform] ?? 'refuse') === 'refuse') {
      await finishHandoff(deps, pending, 'failed', {
        set: {
          error: {
            code: 'public_thread',
            message: `${pending.thread} is readable by anyone, so an approval link there could be used by anyone. Use a private thread, or ${
              deps.policy.publicThreadsHowToAllow?.[adapter.platform] ??
              `allow public ${adapter.platform} threads in the bridge configuration`
            }.`,
          },
        },
      });
      return undefined;
    }
    // Who may answer follows in the message itself (named approvers, or the platform's rule).
    publicNote = ['⚠️ People outside your organization can read this thread, and with it this link.'];
  }
  const { approvers, people } = await resolveApprovers(deps, pending);
  return { approvers, people, publicNote };
}

/** The service's part, holding its slot: discovery, the login's start, the result saved. Undefined when the handoff moved on meanwhile. */
async function startAtService(
  deps: EngineDeps,
  pending: HandoffRecord,
  prepared: Prepared,
  signal: AbortSignal,
): Promise<HandoffRecord | undefined> {
  const record = await fromService(() => resolveProtocol(deps, pending, signal));
  if (!record) return undefined;
  const protocol = deps.protocols.get(record.protocol);
  const { directory, email: approverEmail, fromDirectory } = await approverEmailsFor(deps, record, prepared.people);
  const result = await fromService(() =>
    protocol.start({
      ...loginRequestFor(record),
      ...(approverEmail ? { approverEmail } : {}),
      ...(fromDirectory ? { approverEmailFromDirectory: true } : {}),
      signal,
    }),
  );
  // The link a person will open: https and on the service's site, or nothing is posted.
  checkApprovalLink(result, record.service, deps.policy.network);
  const expiresAt = Math.min(record.expiresAt, result.expiresAt);
  const pollIntervalMs =
    protocol.poll && result.polls !== false ? (result.pollIntervalMs ?? deps.policy.pollIntervalMs) : undefined;
  const saved = await deps.store.transition(record.id, {
    from: ['pending'],
    set: {
      notBefore: undefined,
      startDeadline: undefined,
      ...(result.approvalUrl ? { approvalUrl: result.approvalUrl } : {}),
      answer: result.answer,
      sealedSecret: sealLoginSecret(deps.vault, record.id, result.secret),
      expiresAt,
      serviceExpiresAt: result.expiresAt,
      approvers: prepared.approvers,
      ...(approverEmail ? { approverEmail } : {}),
      ...(directory.length ? { approverEmails: directory } : {}),
      ...(result.serviceName ? { serviceName: result.serviceName } : {}),
      ...(result.serviceLogoUrl ? { serviceLogoUrl: result.serviceLogoUrl } : {}),
      ...(result.userCode ? { userCode: result.userCode } : {}),
      ...(result.protocolVersion ? { protocolVersion: result.protocolVersion } : {}),
      ...(result.note ? { note: result.note } : {}),
      ...(pollIntervalMs !== undefined ? pollingFrom(deps.clock.now(), pollIntervalMs) : {}),
    },
  });
  return saved.ok ? saved.record : undefined; // cancelled meanwhile: the next pass reports it
}

/** The platform's part after the service answered (no slot held): the approval request posted, the handoff awaiting a human. */
async function postStart(deps: EngineDeps, current: HandoffRecord, prepared: Prepared): Promise<void> {
  const { adapter } = deps.adapters.parse(current.thread);
  const { privately } = await postApproval(
    deps,
    approvalMessage(current, [prepared.publicNote]),
    current,
    prepared.people,
    `approval-${current.id}`,
  );
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
