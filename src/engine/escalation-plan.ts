import type { AuditOrigin, Caller } from '../core/caller.js';
import type { EscalationStep } from '../core/waiting.js';
import type { EscalationInput } from '../core/wire.js';
import { checkAgentPolicy } from './agent-admission.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * A request's escalation steps as stored (issue #14), checked before anything is written: each
 * step's people must be approvers the agent may name, in the request's thread and in the step's
 * own `thread`, which must be a thread ref the agent may ask in (its canonical form is kept).
 * In order of `afterMs`; undefined when the request has none.
 */
export async function escalationPlanFor(
  deps: EngineDeps,
  steps: readonly EscalationInput[] | undefined,
  context: { readonly thread: string; readonly caller: Caller | undefined; readonly origin: AuditOrigin },
): Promise<readonly EscalationStep[] | undefined> {
  if (!steps?.length) return undefined;
  const planned: EscalationStep[] = [];
  for (const step of steps) {
    const places = [{ ref: context.thread, ignoresCase: deps.adapters.parse(context.thread).adapter.refsIgnoreCase }];
    let thread: string | undefined;
    if (step.thread !== undefined) {
      const parsed = deps.adapters.parse(step.thread);
      thread = parsed.thread.ref;
      places.push({ ref: thread, ignoresCase: parsed.adapter.refsIgnoreCase });
    }
    for (const place of places) {
      await checkAgentPolicy(deps, context.caller, context.origin, {
        thread: place.ref,
        approvers: step.approvers,
        threadIgnoresCase: place.ignoresCase === true,
      });
    }
    planned.push({ afterMs: step.afterMs, approvers: [...new Set(step.approvers)], ...(thread ? { thread } : {}) });
  }
  return planned.sort((a, b) => a.afterMs - b.afterMs);
}
