import { HandoffError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { Completion } from '../core/login-protocol.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import type { ClaimAnswer, ClaimOutcome, ClaimSource } from './claim-types.js';
import { failClaim } from './claim-endings.js';
import { releaseClaim, whileLeased } from './claim-lease.js';
import type { EngineDeps } from './engine-deps.js';
import { openHeldResult, openLoginSecret } from './login-secret.js';

/**
 * The service's completion for a held claim: the result kept for an approver's word, a poll's
 * result already in hand, or the answer exchanged with the service under the claim's lease.
 * Either a completion, or the outcome that ended the claim instead; a transport failure worth
 * retrying releases the claim (parked until a rate limit passes) and is thrown.
 */
export async function exchangeAnswer(
  deps: EngineDeps,
  held: HandoffRecord,
  answer: ClaimAnswer,
  source: ClaimSource,
): Promise<{ readonly completion: Completion } | { readonly outcome: ClaimOutcome }> {
  if ('held' in answer) {
    // An approver's word for a result the bridge already holds: no second trip to the service.
    const kept = openHeldResult(deps.vault, held);
    if (!kept) return { outcome: { kind: 'not_claimable', record: await releaseClaim(deps, held) } };
    return {
      completion: {
        kind: 'credential',
        credential: kept.credential,
        ...(kept.approvedBy ? { approvedBy: kept.approvedBy } : {}),
      },
    };
  }
  if ('completion' in answer) return { completion: answer.completion };

  const secret = openLoginSecret(deps.vault, held);
  if (!secret) {
    return {
      outcome: await failClaim(
        deps,
        held,
        source,
        'login_secret_missing',
        'The bridge no longer holds this login’s secret; start a new login.',
      ),
    };
  }
  const ctx = { agentId: held.agentId, correlationId: held.correlationId };
  try {
    return {
      completion: await whileLeased(deps, held, () =>
        deps.protocols.get(held.protocol).complete(secret, answer.code, ctx),
      ),
    };
  } catch (err) {
    // A dead end (4xx) or the last retry of a transient failure: say so instead of going quiet.
    const e = err instanceof HandoffError ? err : undefined;
    if (e && (e.retry === 'never' || (e.retry === 'backoff' && source.kind === 'reply' && source.finalAttempt))) {
      return {
        outcome: await failClaim(deps, held, source, e.code, `${e.message} The bridge gave up checking the code.`),
      };
    }
    // A rate limit parks the handoff: no call to the service (poll or reply) before it passes.
    const wait =
      e?.retry === 'after_delay' ? rateLimitWaitMs(e.retryAfterMs, held.expiresAt - deps.clock.now()) : undefined;
    await releaseClaim(deps, held, wait !== undefined ? { notBefore: deps.clock.now() + wait } : {});
    throw err;
  }
}
