import type { HandoffRecord } from '../core/handoff.js';
import type { ClaimOutcome, ClaimSource } from './claim-types.js';
import type { EngineDeps } from './engine-deps.js';
import { finishHandoff } from './finish.js';
import { notices } from './notices.js';
import type { OutboundAction } from './ports.js';

/**
 * How a claim ends the handoff: completed (the reply's reaction and the code's redaction go
 * out with the notice) or failed (the thread told why), and who the audit names for it.
 */

/** The reply's author, else the approver whose word vouched for a poll, else the poll. */
export const actorOf = (source: ClaimSource, vouchedBy?: string) =>
  source.kind === 'reply' ? source.reply.author.id : (vouchedBy ?? 'bridge:poll');

/** Reacts to the reply that made the claim (a poll has nothing to react to). */
export async function react(
  deps: EngineDeps,
  record: HandoffRecord,
  source: ClaimSource,
  reaction: 'ok' | 'fail',
): Promise<void> {
  if (source.kind !== 'reply') return;
  await deps.outbox.send({ kind: 'react', handoffId: record.id, message: source.reply.messageRef, reaction });
}

export async function completeClaim(
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
    credentialScopes: scopes,
    actor: actorOf(source, vouchedBy),
    notice: (done) => notices.completed(done, scopes, redacts, codeInReply),
    // The reply's reaction and the code's redaction go out with the notice (one write to Redis).
    alsoSend: (): OutboundAction[] =>
      source.kind !== 'reply'
        ? []
        : [
            { kind: 'react', handoffId: record.id, message: source.reply.messageRef, reaction: 'ok' },
            ...(redacts
              ? [
                  {
                    kind: 'redact' as const,
                    handoffId: record.id,
                    message: source.reply.messageRef,
                    owner: { agentId: record.agentId, correlationId: record.correlationId },
                  },
                ]
              : []),
          ],
  });
  if (!result.ok) return { kind: 'not_claimable', record: result.reason === 'conflict' ? result.record : record };
  return { kind: 'completed', record: result.record };
}

export async function failClaim(
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
