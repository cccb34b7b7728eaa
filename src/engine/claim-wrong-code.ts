import { maxAttempts, type HandoffRecord } from '../core/handoff.js';
import type { Completion } from '../core/login-protocol.js';
import type { ClaimOptions, ClaimOutcome, ClaimSource } from './claim-types.js';
import { actorOf, failClaim, react } from './claim-endings.js';
import { releaseClaim } from './claim-lease.js';
import type { EngineDeps } from './engine-deps.js';
import { notices } from './notices.js';

/**
 * A wrong answer: the claim is given back and the thread told, the attempt counted and
 * audited, and the handoff failed at `maxAttempts`. An answer the service calls too early
 * (`counts: false`) is a hint and counts nothing; `onWrongCode: 'release'` says nothing.
 */
export async function wrongCode(
  deps: EngineDeps,
  held: HandoffRecord,
  source: ClaimSource,
  completion: Extract<Completion, { kind: 'wrong_code' }>,
  options: ClaimOptions,
): Promise<ClaimOutcome> {
  if (options.onWrongCode === 'release') return { kind: 'wrong_code', record: await releaseClaim(deps, held) };
  if (completion.counts === false) {
    // Too early, not wrong: a hint, and the same code may be sent again.
    const released = await releaseClaim(deps, held);
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
    const failed = await failClaim(deps, held, source, 'too_many_attempts', `${maxAttempts} wrong codes were sent.`, {
      attempts,
    });
    return failed;
  }
  const released = await releaseClaim(deps, held, { attempts });
  await react(deps, held, source, 'fail');
  await deps.outbox.send({
    kind: 'post',
    handoffId: held.id,
    thread: held.thread,
    message: notices.wrongCode(held, completion.message, attempts),
  });
  return { kind: 'wrong_code', record: released };
}
