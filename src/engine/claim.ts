import { RateLimitedError, type HandoffError } from '../core/errors.js';
import { maxRestarts, type HandoffRecord } from '../core/handoff.js';
import type { Completion } from '../core/login-protocol.js';
import { checkApprovalLink } from './approval-link.js';
import type { ClaimAnswer, ClaimOptions, ClaimOutcome, ClaimSource } from './claim-types.js';
import { completeClaim, failClaim } from './claim-endings.js';
import { exchangeAnswer } from './claim-exchange.js';
import { acquireClaim } from './claim-lease.js';
import { bindPollCompletion, pollApprovalOf, refusedBeforeExchange } from './claim-poll-approval.js';
import { wrongCode } from './claim-wrong-code.js';
import { storeClaimedCredential } from './claim-credential.js';
import type { EngineDeps } from './engine-deps.js';
import { applyRestart } from './restart.js';

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
 *
 * This file is the claim's order of steps; its parts: claim-lease.ts (taking, resuming,
 * renewing and releasing the claim), claim-exchange.ts (the answer to a completion, under the
 * lease), claim-poll-approval.ts (whose approval a poll's result is), claim-credential.ts
 * (storing what was issued), claim-wrong-code.ts (a wrong answer counted),
 * claim-endings.ts (completing or failing the handoff) and claim-types.ts (its inputs and outcomes).
 */

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
  const claim = await acquireClaim(deps, record, source.jobId);
  if (!claim) return { kind: 'not_claimable', record: (await deps.store.get(record.id)) ?? record };
  const { held } = claim;
  const credentialId = held.credentialId!;

  // A retry after a crash may find the credential already stored: finish without the service.
  // (Not under an id this claim just minted: nothing was ever stored under it.)
  const stored = claim.newCredentialId ? undefined : await deps.credentials.get(credentialId);
  if (stored) return completeClaim(deps, held, stored.scopes, source);

  // The poll's result is someone's approval at the service: is it an approver's?
  const approval = pollApprovalOf(deps, held, answer, source);
  const refused = await refusedBeforeExchange(deps, held, source, approval);
  if (refused) return refused;

  const exchanged = await exchangeAnswer(deps, held, answer, source);
  if ('outcome' in exchanged) return exchanged.outcome;
  const { completion } = exchanged;
  const unbound = await bindPollCompletion(deps, held, source, completion, approval);
  if (unbound) return unbound;
  const { vouchedBy } = approval;

  switch (completion.kind) {
    case 'credential':
      await storeClaimedCredential(deps, held, credentialId, completion.credential);
      return completeClaim(deps, held, completion.credential.scopes, source, vouchedBy);
    case 'already_exchanged':
      if (completion.credential) {
        // The protocol still holds what the service issued (e.g. a key upgraded in place).
        await storeClaimedCredential(deps, held, credentialId, completion.credential);
        return completeClaim(deps, held, completion.credential.scopes, source, vouchedBy);
      }
      // Only our own earlier exchange can have spent it; without its result we cannot go on.
      return failClaim(
        deps,
        held,
        source,
        'exchange_lost',
        'The service says this login was already exchanged, but the bridge holds no credential from it. Start a new login.',
      );
    case 'restarted':
      return restart(deps, held, source, completion);
    case 'fatal':
      return failClaim(deps, held, source, completion.code, completion.message);
    case 'wrong_code':
      return wrongCode(deps, held, source, completion, options);
  }
}

/** The service voided the attempt and began a fresh one: post it, unless restarts are used up. */
async function restart(
  deps: EngineDeps,
  held: HandoffRecord,
  source: ClaimSource,
  completion: Extract<Completion, { kind: 'restarted' }>,
): Promise<ClaimOutcome> {
  if ((held.restarts ?? 0) >= maxRestarts) {
    return failClaim(
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
    return failClaim(deps, held, source, e.code, e.message);
  }
  const restarted = await applyRestart(deps, held, completion.started, completion.reason);
  return restarted
    ? { kind: 'restarted', record: restarted }
    : { kind: 'not_claimable', record: (await deps.store.get(held.id)) ?? held };
}
