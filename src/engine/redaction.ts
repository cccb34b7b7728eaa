import type { RedactOutcome } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';
import type { OutboundAction } from './ports.js';

/**
 * Records what became of a message that carried a spent code (the outbound queue carried out
 * the `redact` action; the engine keeps the audit trail).
 */
export async function recordRedaction(
  deps: Pick<EngineDeps, 'store' | 'audit'>,
  action: Extract<OutboundAction, { kind: 'redact' }>,
  platform: string,
  outcome: RedactOutcome,
): Promise<void> {
  // The action names the handoff's agent and correlation id; one queued before it did is read.
  const owner = action.owner ?? (await deps.store.get(action.handoffId));
  await deps.audit.append({
    event: 'reply.redacted',
    handoffId: action.handoffId,
    ...(owner ? { agentId: owner.agentId, correlationId: owner.correlationId } : {}),
    detail: { outcome, platform },
  });
}
