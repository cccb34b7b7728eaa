import type { RedactOutcome } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Records what became of a message that carried a spent code (the outbound queue carried out
 * the `redact` action; the engine keeps the audit trail).
 */
export async function recordRedaction(
  deps: Pick<EngineDeps, 'store' | 'audit'>,
  handoffId: string,
  platform: string,
  outcome: RedactOutcome,
): Promise<void> {
  const record = await deps.store.get(handoffId);
  await deps.audit.append({
    event: 'reply.redacted',
    handoffId,
    ...(record ? { agentId: record.agentId, correlationId: record.correlationId } : {}),
    detail: { outcome, platform },
  });
}
