import { HandoffError, RateLimitedError } from '../core/errors.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import { checkApprovalLink } from './approval-link.js';
import { maxAttempts, maxRestarts, type HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import type { Completion, IssuedCredential } from '../core/login-protocol.js';
import type { InboundReply } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';
import { openLoginSecret } from './login-secret.js';
import { scheduleRefresh } from './credential-lifecycle.js';
import { finishHandoff } from './finish.js';
import { notices } from './notices.js';
import { applyRestart } from './restart.js';

/**
 * Finishing a login with an answer, exactly once. The compare-and-set from `awaiting_human`
 * to `claiming` admits one claimant; the claimant's job id is recorded, so a retry of the
 * same job after a crash resumes its own claim instead of being locked out. The credential
 * id is fixed at claim time: a crash after the vault write but before the final transition
 * is finished on retry without asking the service again.
 */
export type ClaimSource =
  | {
      readonly kind: 'reply';
      readonly reply: InboundReply;
      readonly jobId: string;
      /** The queue will not retry this job again: a transport failure now ends the handoff. */
      readonly finalAttempt?: boolean;
    }
  | { readonly kind: 'poll'; readonly jobId: string };

export type ClaimOutcome =
  /** Someone else holds the claim or the handoff already ended. */
  | { readonly kind: 'not_claimable'; readonly record: HandoffRecord }
  | { readonly kind: 'completed'; readonly record: HandoffRecord }
  | { readonly kind: 'wrong_code'; readonly record: HandoffRecord }
  /** The protocol started over with fresh instructions, which were posted. */
  | { readonly kind: 'restarted'; readonly record: HandoffRecord }
  | { readonly kind: 'failed'; readonly record: HandoffRecord };

export interface ClaimOptions {
  /** `count` (default) records a wrong answer; `release` gives the claim back silently. */
  readonly onWrongCode?: 'count' | 'release';
}

const actorOf = (source: ClaimSource) => (source.kind === 'reply' ? source.reply.author.id : 'bridge:poll');

async function acquire(deps: EngineDeps, record: HandoffRecord, source: ClaimSource): Promise<HandoffRecord | undefined> {
  if (record.status === 'claiming' && record.claimedBy === source.jobId) return record;
  const result = await deps.store.transition(record.id, {
    to: 'claiming',
    from: ['awaiting_human'],
    set: { claimedBy: source.jobId, credentialId: record.credentialId ?? newId('credential') },
  });
  if (result.ok) return result.record;
  if (result.reason === 'conflict' && result.record.status === 'claiming' && result.record.claimedBy === source.jobId) return result.record;
  return undefined;
}

/** Gives a claim back after a transport failure, so the next try can take it. */
async function release(deps: EngineDeps, record: HandoffRecord, set: { attempts?: number; notBefore?: number } = {}): Promise<HandoffRecord> {
  const result = await deps.store.transition(record.id, { to: 'awaiting_human', from: ['claiming'], set: { ...set, claimedBy: undefined } });
  return result.ok ? result.record : record;
}

export async function claimWithAnswer(
  deps: EngineDeps,
  record: HandoffRecord,
  answer: { code: string } | { completion: Completion },
  source: ClaimSource,
  options: ClaimOptions = {},
): Promise<ClaimOutcome> {
  // The service asked for a pause (a rate limit): the answer waits until then, untried.
  const pausedFor = (record.notBefore ?? 0) - deps.clock.now();
  if (pausedFor > 0 && 'code' in answer) throw new RateLimitedError('The service asked the bridge to wait before calling it again.', pausedFor, { code: 'service_rate_limited' });
  const held = await acquire(deps, record, source);
  if (!held) return { kind: 'not_claimable', record: (await deps.store.get(record.id)) ?? record };
  const credentialId = held.credentialId!;
  const ctx = { agentId: held.agentId, correlationId: held.correlationId };

  // A retry after a crash may find the credential already stored: finish without the service.
  const stored = await deps.credentials.get(credentialId);
  if (stored) return complete(deps, held, stored.scopes, source);

  let completion: Completion;
  if ('completion' in answer) completion = answer.completion;
  else {
    const secret = openLoginSecret(deps.vault, held);
    if (!secret) {
      return fail(deps, held, source, 'login_secret_missing', 'The bridge no longer holds this login’s secret; start a new login.');
    }
    try {
      completion = await deps.protocols.get(held.protocol).complete(secret, answer.code, ctx);
    } catch (err) {
      // A dead end (4xx) or the last retry of a transient failure: say so instead of going quiet.
      const e = err instanceof HandoffError ? err : undefined;
      if (e && (e.retry === 'never' || (e.retry === 'backoff' && source.kind === 'reply' && source.finalAttempt))) {
        return fail(deps, held, source, e.code, `${e.message} The bridge gave up checking the code.`);
      }
      // A rate limit parks the handoff: no call to the service (poll or reply) before it passes.
      const wait = e?.retry === 'after_delay' ? rateLimitWaitMs(e.retryAfterMs, held.expiresAt - deps.clock.now()) : undefined;
      await release(deps, held, wait !== undefined ? { notBefore: deps.clock.now() + wait } : {});
      throw err;
    }
  }

  switch (completion.kind) {
    case 'credential':
      await storeCredential(deps, held, credentialId, completion.credential);
      return complete(deps, held, completion.credential.scopes, source);
    case 'already_exchanged':
      if (completion.credential) {
        // The protocol still holds what the service issued (e.g. a key upgraded in place).
        await storeCredential(deps, held, credentialId, completion.credential);
        return complete(deps, held, completion.credential.scopes, source);
      }
      // Only our own earlier exchange can have spent it; without its result we cannot go on.
      return fail(deps, held, source, 'exchange_lost', 'The service says this login was already exchanged, but the bridge holds no credential from it. Start a new login.');
    case 'restarted': {
      if ((held.restarts ?? 0) >= maxRestarts) {
        return fail(deps, held, source, 'too_many_restarts', `The service voided this login ${maxRestarts + 1} times; ask the agent to start a new one.`);
      }
      try {
        checkApprovalLink(completion.started, held.service, deps.policy.network);
      } catch (err) {
        const e = err as HandoffError;
        return fail(deps, held, source, e.code, e.message);
      }
      const restarted = await applyRestart(deps, held, completion.started, completion.reason);
      return restarted ? { kind: 'restarted', record: restarted } : { kind: 'not_claimable', record: (await deps.store.get(held.id)) ?? held };
    }
    case 'fatal':
      return fail(deps, held, source, completion.code, completion.message);
    case 'wrong_code': {
      if (options.onWrongCode === 'release') return { kind: 'wrong_code', record: await release(deps, held) };
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
        const failed = await fail(deps, held, source, 'too_many_attempts', `${maxAttempts} wrong codes were sent.`, { attempts });
        return failed;
      }
      const released = await release(deps, held, { attempts });
      await react(deps, held, source, 'fail');
      await deps.outbox.send({ kind: 'post', handoffId: held.id, thread: held.thread, message: notices.wrongCode(held, completion.message, attempts) });
      return { kind: 'wrong_code', record: released };
    }
  }
}

async function storeCredential(deps: EngineDeps, record: HandoffRecord, id: string, credential: IssuedCredential): Promise<void> {
  await deps.credentials.put(
    {
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
    },
    credential,
  );
  await scheduleRefresh(deps, id, credential, record.protocol);
}

async function react(deps: EngineDeps, record: HandoffRecord, source: ClaimSource, reaction: 'ok' | 'fail'): Promise<void> {
  if (source.kind !== 'reply') return;
  await deps.outbox.send({ kind: 'react', handoffId: record.id, message: source.reply.messageRef, reaction });
}

async function complete(deps: EngineDeps, record: HandoffRecord, scopes: readonly string[], source: ClaimSource): Promise<ClaimOutcome> {
  const { adapter } = deps.adapters.parse(record.thread);
  const redacts = source.kind === 'reply' && adapter.redact !== undefined && record.answer !== 'done';
  const result = await finishHandoff(deps, record, 'completed', {
    set: { credentialId: record.credentialId },
    actor: actorOf(source),
    notice: (done) => notices.completed(done, scopes, redacts),
  });
  if (!result.ok) return { kind: 'not_claimable', record: result.reason === 'conflict' ? result.record : record };
  await react(deps, record, source, 'ok');
  if (redacts && source.kind === 'reply') {
    await deps.outbox.send({ kind: 'redact', handoffId: record.id, message: source.reply.messageRef });
  }
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
