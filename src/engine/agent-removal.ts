import type { AuditOrigin } from '../core/caller.js';
import { HandoffError } from '../core/errors.js';
import { isTerminal } from '../core/handoff.js';
import type { AgentRemoval, RevokeResult } from '../core/wire.js';
import { agentNotFound, assertManagedByApi, toAgentView } from './agents.js';
import { revokeCredential } from './credential-admin.js';
import type { EngineDeps } from './engine-deps.js';
import { cancelHandoff } from './handoff-service.js';

/**
 * Removing an agent: its key dies first (one Redis script; every process refuses it from the
 * next request on), then its open handoffs are cancelled and its credentials revoked at the
 * service and deleted — through the same code paths as `DELETE /v1/handoffs/:id` and
 * `POST /v1/credentials/:id/revoke`, so threads are told and every step is audited.
 */
/** How long removal waits for codes being checked right now to settle, ms. */
const busyWaitMs = 10_000;
const removedBy = 'the operator (the agent was removed)';

export async function removeAgent(deps: EngineDeps, id: string, origin: AuditOrigin): Promise<AgentRemoval> {
  assertManagedByApi(deps, id);
  const agent = await deps.agents.get(id);
  if (!agent || !(await deps.agents.store.remove(id))) throw agentNotFound(id);
  await deps.audit.append({ event: 'agent.removed', agentId: id, ...origin });

  const now = deps.clock.now();
  const recent = (await deps.store.recentOf(id, 1_000)).filter((r) => !isTerminal(r.status)).map((r) => r.id);
  let pending = [...new Set([...(await deps.agentLimits.open(id, now)), ...recent])];
  const cancelled: string[] = [];
  const deadline = now + busyWaitMs;
  while (pending.length > 0) {
    const busy: string[] = [];
    for (const handoffId of pending) {
      try {
        await cancelHandoff(deps, handoffId, origin, removedBy);
        cancelled.push(handoffId);
      } catch (err) {
        if (err instanceof HandoffError && err.code === 'handoff_busy') busy.push(handoffId);
        else if (!(err instanceof HandoffError && ['handoff_finished', 'handoff_not_found'].includes(err.code)))
          throw err;
      }
    }
    pending = busy;
    if (pending.length === 0 || deps.clock.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  // After the cancels, so a credential a finishing claim just stored goes too.
  const revoked: Array<{ id: string; atService: RevokeResult['atService'] }> = [];
  for (const credential of await deps.credentials.listOf(id, 100_000)) {
    try {
      const result = await revokeCredential(deps, credential.id, origin, removedBy);
      revoked.push({ id: credential.id, atService: result.atService });
    } catch (err) {
      if (!(err instanceof HandoffError && err.code === 'credential_not_found')) throw err;
    }
  }
  await deps.agentLimits.forget(id);
  return {
    agent: toAgentView(deps, agent),
    cancelledHandoffs: cancelled,
    revokedCredentials: revoked,
    stillOpen: pending,
  };
}
