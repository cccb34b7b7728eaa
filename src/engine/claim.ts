import { HandoffError, RateLimitedError } from '../core/errors.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import { checkApprovalLink } from './approval-link.js';
import { maxAttempts, maxRestarts, type HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import type { ApprovedBy, Completion, IssuedCredential } from '../core/login-protocol.js';
import type { InboundReply, ThreadAdapter } from '../core/thread-adapter.js';
import { bindServiceApproval, vouchingApprover } from './approver-binding.js';
import type { EngineDeps } from './engine-deps.js';
import type { OutboundAction } from './ports.js';
import { openHeldResult, openLoginSecret } from './login-secret.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { scheduleRetirement } from './credential-expiry.js';
import { scheduleRefresh } from './credential-lifecycle.js';
import { finishHandoff } from './finish.js';
import { notices } from './notices.js';
import { applyRestart } from './restart.js';
import { holdServiceApproval, refuseServiceApproval } from './service-approval.js';

/**
 * Finishing a login with an answer, exactly once. The compare-and-set from `awaiting_human`
 * to `claiming` admits one claimant; the claimant's job id is recorded, so a retry of the
 * same job after a crash resumes its own claim instead of being locked out. The credential
 * id is fixed at claim time: a crash after the vault write but before the final transition
 * is finished on retry without asking the service again.
 *
 * A result the background poll found counts only when it is bound to an approver
 * (approver-binding.ts): refused when the service names someone else, held for an approver's
 * word when it names nobody the bridge can match.
 */
export type ClaimSource =
  | {
      readonly kind: 'reply';
      readonly reply: InboundReply;
      /** The reply's platform's adapter, resolved once by the reply handler. */
      readonly adapter: ThreadAdapter;
      readonly jobId: string;
      /** The queue will not retry this job again: a transport failure now ends the handoff. */
      readonly finalAttempt?: boolean;
      /** The reply was a "done" (no code in it: nothing to redact or call spent). */
      readonly saidDone?: boolean;
    }
  | { readonly kind: 'poll'; readonly jobId: string };

/**
 * What finishes the login: an answer for the protocol's `complete`, a result already in hand
 * (a poll's), or the result held for an approver's word (`held`: the reply is that word).
 */
export type ClaimAnswer =
  | { readonly code: string; readonly approvedBy?: ApprovedBy }
  | { readonly completion: Completion }
  | { readonly held: true };

export type ClaimOutcome =
  /** Someone else holds the claim or the handoff already ended. */
  | { readonly kind: 'not_claimable'; readonly record: HandoffRecord }
  | { readonly kind: 'completed'; readonly record: HandoffRecord }
  | { readonly kind: 'wrong_code'; readonly record: HandoffRecord }
  /** The protocol started over with fresh instructions, which were posted. */
  | { readonly kind: 'restarted'; readonly record: HandoffRecord }
  /** A poll result nobody can vouch for yet is held until an approver's word. */
  | { readonly kind: 'held'; readonly record: HandoffRecord }
  | { readonly kind: 'failed'; readonly record: HandoffRecord };

export interface ClaimOptions {
  /** `count` (default) records a wrong answer; `release` gives the claim back silently. */
  readonly onWrongCode?: 'count' | 'release';
}

/** Default claim lease, ms: see EnginePolicy.claimLeaseMs. */
export const defaultClaimLeaseMs = 60_000;
export const claimLeaseMs = (deps: EngineDeps): number => deps.policy.claimLeaseMs ?? defaultClaimLeaseMs;

/**
 * Runs `work` (the exchange with the service) while renewing the claim's lease every third of
 * it, so the driver never takes a slow exchange for a dead worker's and releases it to a
 * second claimant (which would exchange the code again). Each renewal is a compare-and-set on
 * the version the last one left: when anything else moved the record, renewing stops.
 */
async function whileLeased<T>(deps: EngineDeps, held: HandoffRecord, work: () => Promise<T>): Promise<T> {
  let version = held.version;
  let renewing = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        const renewed = await deps.store
          .transition(held.id, { from: ['claiming'], expectVersion: version, set: {} })
          .catch(() => undefined);
        if (renewed?.ok) version = renewed.record.version;
        else clearInterval(timer);
      });
    },
    Math.max(100, Math.floor(claimLeaseMs(deps) / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
  }
}

const actorOf = (source: ClaimSource, vouchedBy?: string) =>
  source.kind === 'reply' ? source.reply.author.id : (vouchedBy ?? 'bridge:poll');

async function acquire(
  deps: EngineDeps,
  record: HandoffRecord,
  source: ClaimSource,
): Promise<HandoffRecord | undefined> {
  if (record.status === 'claiming' && record.claimedBy === source.jobId) return record;
  const result = await deps.store.transition(record.id, {
    to: 'claiming',
    from: ['awaiting_human'],
    set: { claimedBy: source.jobId, credentialId: record.credentialId ?? newId('credential') },
  });
  if (result.ok) return result.record;
  if (result.reason === 'conflict' && result.record.status === 'claiming' && result.record.claimedBy === source.jobId)
    return result.record;
  return undefined;
}

/** Gives a claim back after a transport failure, so the next try can take it. */
async function release(
  deps: EngineDeps,
  record: HandoffRecord,
  set: { attempts?: number; notBefore?: number } = {},
): Promise<HandoffRecord> {
  const result = await deps.store.transition(record.id, {
    to: 'awaiting_human',
    from: ['claiming'],
    set: { ...set, claimedBy: undefined },
  });
  return result.ok ? result.record : record;
}

export async function claimWithAnswer(
  deps: EngineDeps,
  record: HandoffRecord,
  answer: ClaimAnswer,
  source: ClaimSource,
  options: ClaimOptions = {},
): Promise<ClaimOutcome> {
  // The service asked for a pause (a rate limit): the answer waits until then, untried.
  const pausedFor = (record.notBefore ?? 0) - deps.clock.now();
  if (pausedFor > 0 && 'code' in answer)
    throw new RateLimitedError('The service asked the bridge to wait before calling it again.', pausedFor, {
      code: 'service_rate_limited',
    });
  const held = await acquire(deps, record, source);
  if (!held) return { kind: 'not_claimable', record: (await deps.store.get(record.id)) ?? record };
  const credentialId = held.credentialId!;
  const ctx = { agentId: held.agentId, correlationId: held.correlationId };

  // A retry after a crash may find the credential already stored: finish without the service.
  const stored = await deps.credentials.get(credentialId);
  if (stored) return complete(deps, held, stored.scopes, source);

  // The poll's result is someone's approval at the service: is it an approver's?
  const adapter = source.kind === 'reply' ? source.adapter : deps.adapters.parse(held.thread).adapter;
  const unnamed = adapter.unnamedApprovers ?? 'anyone';
  const vouchedBy = source.kind === 'poll' ? vouchingApprover(held, deps.clock.now()) : undefined;
  const preApproval = 'code' in answer ? answer.approvedBy : undefined;
  if (source.kind === 'poll' && preApproval && bindServiceApproval(held, preApproval, unnamed) === 'other') {
    return refuseServiceApproval(deps, held, preApproval);
  }

  let completion: Completion;
  if ('held' in answer) {
    // An approver's word for a result the bridge already holds: no second trip to the service.
    const kept = openHeldResult(deps.vault, held);
    if (!kept) return { kind: 'not_claimable', record: await release(deps, held) };
    completion = {
      kind: 'credential',
      credential: kept.credential,
      ...(kept.approvedBy ? { approvedBy: kept.approvedBy } : {}),
    };
  } else if ('completion' in answer) completion = answer.completion;
  else {
    const secret = openLoginSecret(deps.vault, held);
    if (!secret) {
      return fail(
        deps,
        held,
        source,
        'login_secret_missing',
        'The bridge no longer holds this login’s secret; start a new login.',
      );
    }
    try {
      completion = await whileLeased(deps, held, () =>
        deps.protocols.get(held.protocol).complete(secret, answer.code, ctx),
      );
    } catch (err) {
      // A dead end (4xx) or the last retry of a transient failure: say so instead of going quiet.
      const e = err instanceof HandoffError ? err : undefined;
      if (e && (e.retry === 'never' || (e.retry === 'backoff' && source.kind === 'reply' && source.finalAttempt))) {
        return fail(deps, held, source, e.code, `${e.message} The bridge gave up checking the code.`);
      }
      // A rate limit parks the handoff: no call to the service (poll or reply) before it passes.
      const wait =
        e?.retry === 'after_delay' ? rateLimitWaitMs(e.retryAfterMs, held.expiresAt - deps.clock.now()) : undefined;
      await release(deps, held, wait !== undefined ? { notBefore: deps.clock.now() + wait } : {});
      throw err;
    }
  }

  if (
    source.kind === 'poll' &&
    (completion.kind === 'credential' || (completion.kind === 'already_exchanged' && completion.credential))
  ) {
    const approvedBy = completion.approvedBy ?? preApproval;
    const binding = bindServiceApproval(held, approvedBy, unnamed);
    if (binding === 'other') return refuseServiceApproval(deps, held, approvedBy);
    if (binding === 'unknown' && !vouchedBy) {
      const kept = await holdServiceApproval(deps, held, {
        credential: completion.credential!,
        ...(approvedBy ? { approvedBy } : {}),
      });
      return { kind: 'held', record: kept };
    }
    if (approvedBy || vouchedBy) await auditBinding(deps, held, approvedBy, vouchedBy);
  }

  switch (completion.kind) {
    case 'credential':
      await storeCredential(deps, held, credentialId, completion.credential);
      return complete(deps, held, completion.credential.scopes, source, vouchedBy);
    case 'already_exchanged':
      if (completion.credential) {
        // The protocol still holds what the service issued (e.g. a key upgraded in place).
        await storeCredential(deps, held, credentialId, completion.credential);
        return complete(deps, held, completion.credential.scopes, source, vouchedBy);
      }
      // Only our own earlier exchange can have spent it; without its result we cannot go on.
      return fail(
        deps,
        held,
        source,
        'exchange_lost',
        'The service says this login was already exchanged, but the bridge holds no credential from it. Start a new login.',
      );
    case 'restarted': {
      if ((held.restarts ?? 0) >= maxRestarts) {
        return fail(
          deps,
          held,
          source,
          'too_many_restarts',
          `The service voided this login ${maxRestarts + 1} times; ask the agent to start a new one.`,
        );
      }
      try {
        checkApprovalLink(completion.started, held.service, deps.policy.network);
      } catch (err) {
        const e = err as HandoffError;
        return fail(deps, held, source, e.code, e.message);
      }
      const restarted = await applyRestart(deps, held, completion.started, completion.reason);
      return restarted
        ? { kind: 'restarted', record: restarted }
        : { kind: 'not_claimable', record: (await deps.store.get(held.id)) ?? held };
    }
    case 'fatal':
      return fail(deps, held, source, completion.code, completion.message);
    case 'wrong_code': {
      if (options.onWrongCode === 'release') return { kind: 'wrong_code', record: await release(deps, held) };
      if (completion.counts === false) {
        // Too early, not wrong: a hint, and the same code may be sent again.
        const released = await release(deps, held);
        await react(deps, held, source, 'fail');
        await deps.outbox.send({
          kind: 'post',
          handoffId: held.id,
          thread: held.thread,
          message: notices.notYet(held, completion.message),
        });
        return { kind: 'wrong_code', record: released };
      }
      const attempts = held.attempts + 1;
      await deps.audit.append({
        event: 'reply.wrong_code',
        handoffId: held.id,
        agentId: held.agentId,
        correlationId: held.correlationId,
        actor: actorOf(source),
        detail: { attempts, reason: completion.code },
      });
      if (attempts >= maxAttempts) {
        const failed = await fail(deps, held, source, 'too_many_attempts', `${maxAttempts} wrong codes were sent.`, {
          attempts,
        });
        return failed;
      }
      const released = await release(deps, held, { attempts });
      await react(deps, held, source, 'fail');
      await deps.outbox.send({
        kind: 'post',
        handoffId: held.id,
        thread: held.thread,
        message: notices.wrongCode(held, completion.message, attempts),
      });
      return { kind: 'wrong_code', record: released };
    }
  }
}

async function storeCredential(
  deps: EngineDeps,
  record: HandoffRecord,
  id: string,
  credential: IssuedCredential,
): Promise<void> {
  const stored: CredentialRecord = {
    id,
    handoffId: record.id,
    service: record.service,
    protocol: deps.protocols.get(record.protocol).name,
    ...(record.serviceName ? { serviceName: record.serviceName } : {}),
    scopes: credential.scopes,
    ...(credential.expiresAt !== undefined ? { expiresAt: credential.expiresAt } : {}),
    agentId: record.agentId,
    thread: record.thread,
    createdAt: deps.clock.now(),
  };
  await deps.credentials.put(stored, credential);
  await scheduleRefresh(deps, id, credential, record.protocol);
  await scheduleRetirement(deps, id, stored);
}

async function react(
  deps: EngineDeps,
  record: HandoffRecord,
  source: ClaimSource,
  reaction: 'ok' | 'fail',
): Promise<void> {
  if (source.kind !== 'reply') return;
  await deps.outbox.send({ kind: 'react', handoffId: record.id, message: source.reply.messageRef, reaction });
}

/** Records whom the service named, or which approver's word vouched, for a poll's completion. */
async function auditBinding(
  deps: EngineDeps,
  record: HandoffRecord,
  approvedBy: ApprovedBy | undefined,
  vouchedBy: string | undefined,
): Promise<void> {
  await deps.audit.append({
    event: 'poll.bound',
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor: vouchedBy ?? 'bridge:poll',
    detail: {
      ...(approvedBy?.email ? { account: approvedBy.email } : {}),
      ...(approvedBy ? { said: approvedBy.source } : {}),
      ...(vouchedBy ? { vouchedBy } : {}),
    },
  });
}

async function complete(
  deps: EngineDeps,
  record: HandoffRecord,
  scopes: readonly string[],
  source: ClaimSource,
  vouchedBy?: string,
): Promise<ClaimOutcome> {
  const codeInReply = source.kind === 'reply' && record.answer !== 'done' && !source.saidDone;
  const redacts = codeInReply && source.adapter.redact !== undefined;
  const result = await finishHandoff(deps, record, 'completed', {
    set: { credentialId: record.credentialId },
    actor: actorOf(source, vouchedBy),
    notice: (done) => notices.completed(done, scopes, redacts, codeInReply),
    // The reply's reaction and the code's redaction go out with the notice (one round trip).
    alsoSend: (): OutboundAction[] =>
      source.kind !== 'reply'
        ? []
        : [
            { kind: 'react', handoffId: record.id, message: source.reply.messageRef, reaction: 'ok' },
            ...(redacts ? [{ kind: 'redact' as const, handoffId: record.id, message: source.reply.messageRef }] : []),
          ],
  });
  if (!result.ok) return { kind: 'not_claimable', record: result.reason === 'conflict' ? result.record : record };
  return { kind: 'completed', record: result.record };
}

async function fail(
  deps: EngineDeps,
  record: HandoffRecord,
  source: ClaimSource,
  code: string,
  message: string,
  set: { attempts?: number } = {},
): Promise<ClaimOutcome> {
  const result = await finishHandoff(deps, record, 'failed', {
    set: { ...set, error: { code, message } },
    actor: actorOf(source),
    notice: (failed) => notices.failed(failed, message),
  });
  await react(deps, record, source, 'fail');
  return { kind: 'failed', record: result.ok ? result.record : record };
}
