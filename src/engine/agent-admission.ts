import { checkPolicy, type PolicyQuestion } from '../core/agent-policy.js';
import { originOf, type ApiCall, type AuditOrigin, type Caller } from '../core/caller.js';
import { ForbiddenError, HandoffError, RateLimitedError, UnauthorizedError } from '../core/errors.js';
import {
  resolveAgent,
  type HandoffRequest,
  type ParsedApprovalRequest,
  type ParsedHandoffRequest,
} from './handoff-request.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * What an agent key may create: its own handoffs only (403 `agent_mismatch`), within its
 * policy (403 `service_not_allowed`, `thread_not_allowed`, `approver_not_allowed`) and its
 * limits (429 `too_many_open_handoffs`, 429 `rate_limited` with Retry-After). Every refusal
 * is audited with the caller; a flood of limit refusals once a minute per agent and kind.
 */

/** How often a repeated limit refusal is audited, ms. */
const refusalAuditWindowMs = 60_000;

/** The request with its agent resolved from the caller; a body naming another agent → 403 `agent_mismatch`. */
export async function requestFor<R extends ParsedHandoffRequest | ParsedApprovalRequest>(
  deps: EngineDeps,
  call: ApiCall,
  parsed: R,
): Promise<Omit<R, 'agent'> & Pick<HandoffRequest, 'agent'>> {
  const resolved = resolveAgent(parsed, call.caller);
  if (!('mismatch' in resolved)) return resolved;
  const agentId = call.caller.kind === 'agent' ? call.caller.agentId : '';
  await deps.audit.append({
    event: 'handoff.refused',
    agentId,
    ...originOf(call),
    detail: { code: 'agent_mismatch', claimedAgentId: resolved.mismatch.slice(0, 100) },
  });
  throw new ForbiddenError(
    `This key belongs to agent ${agentId}; it may not act as agent "${resolved.mismatch.slice(0, 100)}". Leave agent.id out, or send ${agentId}.`,
    'agent_mismatch',
  );
}

/** Checks an agent caller's request against its policy; the admin token and the bridge itself are not checked. */
export async function checkAgentPolicy(
  deps: EngineDeps,
  caller: Caller | undefined,
  origin: AuditOrigin,
  question: PolicyQuestion,
): Promise<void> {
  if (caller?.kind !== 'agent') return;
  const agent = await deps.agents.get(caller.agentId);
  // Removed between authentication and now: its key is dead.
  if (!agent) throw new UnauthorizedError();
  const refusal = checkPolicy(agent.id, agent.policy, question);
  if (!refusal) return;
  await deps.audit.append({ event: 'handoff.refused', agentId: agent.id, ...origin, detail: { code: refusal.code } });
  throw new ForbiddenError(refusal.message, refusal.code);
}

/**
 * Counts the new handoff against its agent's limits (checked for agent callers only; every
 * handoff counts as open), or refuses it.
 */
export async function admitHandoff(
  deps: EngineDeps,
  args: { caller: Caller | undefined; origin: AuditOrigin; agentId: string; handoffId: string; expiresAt: number },
): Promise<void> {
  let limits: { maxOpen: number; maxPerMinute: number } | undefined;
  if (args.caller?.kind === 'agent') {
    const agent = await deps.agents.get(args.caller.agentId);
    if (!agent) throw new UnauthorizedError();
    const own = deps.agents.limitsOf(agent);
    limits = { maxOpen: own.maxOpenHandoffs, maxPerMinute: own.maxHandoffsPerMinute };
  }
  const admission = await deps.agentLimits.admit(
    args.agentId,
    args.handoffId,
    args.expiresAt,
    deps.clock.now(),
    limits,
  );
  if (admission.kind === 'admitted') return;
  const code = admission.kind === 'rate_limited' ? 'rate_limited' : 'too_many_open_handoffs';
  await deps.audit.appendOnce(`${code}:${args.agentId}`, refusalAuditWindowMs, {
    event: 'handoff.refused',
    agentId: args.agentId,
    ...args.origin,
    detail: { code, ...(limits ? { maxOpen: limits.maxOpen, maxPerMinute: limits.maxPerMinute } : {}) },
  });
  if (admission.kind === 'rate_limited') {
    throw new RateLimitedError(
      `Agent ${args.agentId} created ${limits?.maxPerMinute} handoffs in the last minute, its limit; try again in ${Math.ceil(admission.retryAfterMs / 1000)} s.`,
      admission.retryAfterMs,
      { code: 'rate_limited' },
    );
  }
  throw new HandoffError(
    `Agent ${args.agentId} has ${admission.open} open handoffs, its limit; wait until one ends, or cancel one (DELETE /v1/handoffs/:id).`,
    { code: 'too_many_open_handoffs', status: 429, details: { open: admission.open } },
  );
}
