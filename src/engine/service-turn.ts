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
  | {
      readonly kind: 'busy';
      readonly scope: 'service' | 'agent';
      readonly inFlight: number;
      /** The service's last call succeeded, at this time, and none failed since: the line moves. */
      readonly lastOkAt?: number;
    }
  | { readonly kind: 'open'; readonly untilMs: number; readonly error: UpstreamError }
  | { readonly kind: 'ran' };

/**
 * Calls to services one agent may have in flight at once, over all services: this many service
 * slots. A slot is held only while the service is being called (not while the approval is
 * posted), so against a healthy service that answers in milliseconds the share costs nothing —
 * the origin's own limit is what orders a burst; the share only bites when the agent's calls
 * hang, which is what it is for.
 */
export const agentShareOfSlots = 2;

/** Who is turned away when the gate is busy: a start waits in line (`waiter`), a poll just looks later. */
export interface TurnRequest {
  readonly service: string;
  readonly agentId: string;
  /** Queue this handoff when busy (by `since`, its arrival) and wake it when its turn comes. */
  readonly waiter?: { readonly id: string; readonly since: number };
}

/**
 * The slot given back hands the turn to `first` (the oldest waiter of `key`): its parked start
 * is made due (a record change, so a driver that is still parking itself sees it and runs
 * again) and its job woken. A waiter that no longer waits (cancelled, failed) passes the turn on.
 */
async function wakeWaiter(
  deps: EngineDeps,
  key: string,
  limit: number | undefined,
  first: string | undefined,
  moving: boolean,
): Promise<void> {
  let id = first;
  for (let tries = 0; id !== undefined && tries < 8; tries++) {
    const now = deps.clock.now();
    // Behind a call that succeeded the line was moving: its wait does not count against its start window.
    const set = moving ? { notBefore: now, startDeadline: now + deps.policy.startTimeoutMs } : { notBefore: now };
    const due = await deps.store.transition(id, { from: ['pending'], set });
    if (due.ok) return void (await deps.jobs.wake(id));
    id = await deps.serviceGate!.next(key, limit);
  }
}

/** Gives a slot back and wakes whoever's turn it is; a failure to wake is logged (the waiter looks again by itself). */
async function leaveAndWake(
  deps: EngineDeps,
  entry: GateEntry | undefined,
  key: string,
  limit: number | undefined,
  moving: boolean,
  outcome?: Parameters<Extract<GateEntry, { kind: 'entered' }>['leave']>[0],
): Promise<void> {
  if (entry?.kind !== 'entered') return;
  const next = await entry.leave(outcome);
  if (next === undefined) return;
  await wakeWaiter(deps, key, limit, next, moving).catch((error: unknown) =>
    deps.logger.warn('could not wake a handoff waiting for a service slot', { handoffId: next, error }),
  );
}

/**
 * Takes a slot of the service's origin and one of the agent's share for at most `budgetMs`,
 * runs `work` with a signal that aborts at the budget, and gives both back, telling the
 * origin's breaker how it went and waking the next waiter of each.
 */
export async function serviceTurn(
  deps: EngineDeps,
  turn: TurnRequest,
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<void>,
): Promise<Turn> {
  const origin = new URL(turn.service).origin;
  const gate = deps.serviceGate;
  const leaseMs = budgetMs + leaseMarginMs;
  const agentKey = `agent:${turn.agentId}`;
  const agentLimit = agentShareOfSlots * deps.policy.serviceConcurrency;
  // The origin's slot first: a burst to one healthy service waits in one line (the origin's),
  // and the agent's share (twice as many slots) is then never what holds it back.
  const entry: GateEntry | undefined = gate ? await gate.enter(origin, leaseMs, undefined, turn.waiter) : undefined;
  if (entry?.kind === 'busy')
    return {
      kind: 'busy',
      scope: 'service',
      inFlight: entry.inFlight,
      ...(entry.lastOkAt !== undefined ? { lastOkAt: entry.lastOkAt } : {}),
    };
  if (entry?.kind === 'open') {
    const error = new UpstreamError(entry.message || `${origin} failed repeatedly; the bridge is giving it a rest.`, {
      code: entry.code,
      upstreamStatus: 0,
    });
    return { kind: 'open', untilMs: entry.untilMs, error };
  }
  let share: GateEntry | undefined;
  try {
    share = gate ? await gate.enter(agentKey, leaseMs, agentLimit, turn.waiter) : undefined;
  } finally {
    // Not let in by the agent's share (or no answer): the origin's slot goes to the next in its line.
    if (share?.kind !== 'entered' && gate) await leaveAndWake(deps, entry, origin, undefined, false);
  }
  if (share && share.kind !== 'entered')
    return {
      kind: 'busy',
      scope: 'agent',
      inFlight: share.kind === 'busy' ? share.inFlight : 0,
      ...(share.kind === 'busy' && share.lastOkAt !== undefined ? { lastOkAt: share.lastOkAt } : {}),
    };
  let ranOk = false;
  try {
    try {
      await work(AbortSignal.timeout(Math.max(1, budgetMs)));
    } catch (err) {
      // Only the service's transport trouble counts towards its breaker; a refusal means it is up.
      await leaveAndWake(
        deps,
        entry,
        origin,
        undefined, // the gate's own limit: HANDOFF_SERVICE_CONCURRENCY
        false,
        isServiceTransient(err)
          ? { ok: false, code: err.code, message: err.message }
          : serviceFailures.has(err as object)
            ? { ok: true }
            : undefined,
      );
      throw err;
    }
    ranOk = true;
    await leaveAndWake(deps, entry, origin, undefined, true, { ok: true });
    return { kind: 'ran' };
  } finally {
    // The agent's share never opens a breaker (it never hears of a failure): its slot is given
    // back, remembering a success so that its line, too, is known to move.
    await leaveAndWake(deps, share, agentKey, agentLimit, ranOk, ranOk ? { ok: true } : undefined);
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
