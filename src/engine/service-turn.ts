import { HandoffError, UpstreamError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { GateEntry } from '../store/service-gate.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * A handoff's turn with its service: through the per-origin gate (src/store/service-gate.ts),
 * with a deadline that aborts every call, and with failures told apart: the service's own
 * transport trouble (counts towards the circuit breaker, retried within the start window),
 * a rate limit (parks the handoff), or anything else (the caller's usual handling).
 */

/** Extra life of a gate lease beyond the call's own deadline, ms. */
const leaseMarginMs = 5_000;

const serviceFailures = new WeakSet<object>();

/** Runs a call to the service, marking what it throws as the service's doing. */
export async function fromService<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (typeof err === 'object' && err !== null) serviceFailures.add(err);
    throw err;
  }
}

/** Transport trouble of the service itself (timeout, refused, 5xx, unreadable answer): worth another try. */
export function isServiceTransient(err: unknown): err is HandoffError {
  return err instanceof HandoffError && err.retry === 'backoff' && serviceFailures.has(err);
}

export type Turn =
  /** No slot: the service's are all taken (`service`), or the agent's share is (`agent`). */
  | { readonly kind: 'busy'; readonly scope: 'service' | 'agent'; readonly inFlight: number }
  | { readonly kind: 'open'; readonly untilMs: number; readonly error: UpstreamError }
  | { readonly kind: 'ran' };

/** Calls to services one agent may have in flight at once, over all services: this many service slots. */
export const agentShareOfSlots = 2;

/**
 * Takes a slot of the agent's share and one of the service's origin for at most `budgetMs`,
 * runs `work` with a signal that aborts at the budget, and gives both back, telling the
 * origin's breaker how it went.
 */
export async function serviceTurn(
  deps: EngineDeps,
  turn: { readonly service: string; readonly agentId: string },
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<void>,
): Promise<Turn> {
  const origin = new URL(turn.service).origin;
  const gate = deps.serviceGate;
  const leaseMs = budgetMs + leaseMarginMs;
  const share: GateEntry | undefined = gate
    ? await gate.enter(`agent:${turn.agentId}`, leaseMs, agentShareOfSlots * deps.policy.serviceConcurrency)
    : undefined;
  if (share && share.kind !== 'entered')
    return { kind: 'busy', scope: 'agent', inFlight: share.kind === 'busy' ? share.inFlight : 0 };
  try {
    const entry: GateEntry | undefined = gate ? await gate.enter(origin, leaseMs) : undefined;
    if (entry?.kind === 'busy') return { kind: 'busy', scope: 'service', inFlight: entry.inFlight };
    if (entry?.kind === 'open') {
      const error = new UpstreamError(entry.message || `${origin} failed repeatedly; the bridge is giving it a rest.`, {
        code: entry.code,
        upstreamStatus: 0,
      });
      return { kind: 'open', untilMs: entry.untilMs, error };
    }
    try {
      await work(AbortSignal.timeout(Math.max(1, budgetMs)));
    } catch (err) {
      // Only the service's transport trouble counts towards its breaker; a refusal means it is up.
      await entry?.leave(
        isServiceTransient(err)
          ? { ok: false, code: err.code, message: err.message }
          : serviceFailures.has(err as object)
            ? { ok: true }
            : undefined,
      );
      throw err;
    }
    await entry?.leave({ ok: true });
    return { kind: 'ran' };
  } finally {
    // The agent's share never opens a breaker: its slot is only given back.
    if (share?.kind === 'entered') await share.leave();
  }
}

/** Parks a handoff until `at` (epoch ms): the driver waits for it, and so do replies. */
export async function notBefore(
  deps: EngineDeps,
  record: HandoffRecord,
  at: number,
  extra: { startDeadline?: number } = {},
): Promise<void> {
  await deps.store.transition(record.id, { from: [record.status], set: { notBefore: Math.round(at), ...extra } });
}
