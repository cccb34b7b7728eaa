import { createHash } from 'node:crypto';
import { isTerminal, type HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * One person asked once (issue #14): a login request that may reuse a grant (`reuse` other
 * than `never`) and finds none joins a login of its agent that still waits for the same
 * thing — same service, protocol, thread, scopes and approvers — instead of opening a second
 * one. A scheduled job whose runs fire while the first run's login waits is the case.
 *
 * It rides on the idempotency store: a *join key*, per agent, derived from what is asked,
 * names the handoff opened for it. The first request reserves it (SET NX, so of two racing
 * requests one opens and the other joins); later ones join while that handoff is open; once
 * it has ended, the next request takes the key over (a compare-and-set) and opens a new one.
 */
export type JoinSlot = { readonly kind: 'joined'; readonly record: HandoffRecord } | Lead;

/** This request opens the handoff, under `id`; `abandon` gives the key back when it does not. */
export interface Lead {
  readonly kind: 'lead';
  readonly id: string;
  abandon(): Promise<void>;
  /** The request ended up with another handoff (its idempotency key named one): the key names that. */
  pointAt(handoffId: string): Promise<void>;
}

export interface JoinQuestion {
  readonly agentId: string;
  readonly service: string;
  readonly protocol: string;
  readonly thread: string;
  readonly scopes: readonly string[];
  readonly approvers: readonly string[];
  readonly approverEmail?: string | undefined;
}

/** A reservation whose handoff is not written yet is waited for this long before it is taken over, ms. */
const writeGraceMs = 5_000;
const retryMs = 100;

export function joinKeyOf(q: JoinQuestion): string {
  const what = [q.service, q.protocol, q.thread, [...q.scopes].sort(), [...q.approvers].sort(), q.approverEmail ?? ''];
  return `join:${createHash('sha256').update(JSON.stringify(what)).digest('base64url').slice(0, 22)}`;
}

export async function joinOrLead(deps: EngineDeps, question: JoinQuestion, expiresInMs: number): Promise<JoinSlot> {
  const { agentId } = question;
  const key = joinKeyOf(question);
  const id = newId('handoff');
  const ttlMs = expiresInMs + 3_600_000;
  const lead: Lead = {
    kind: 'lead',
    id,
    abandon: () => deps.idempotency.release(agentId, key, id),
    async pointAt(handoffId) {
      if (handoffId !== id) await deps.idempotency.replace(agentId, key, id, handoffId, stamp(), ttlMs);
    },
  };
  const stamp = () => String(deps.clock.now());
  const deadline = deps.clock.now() + writeGraceMs;
  for (;;) {
    const held = await deps.idempotency.reserve(agentId, key, id, stamp(), ttlMs);
    if (held.kind === 'reserved') return lead;
    const open = await deps.store.get(held.handoffId);
    if (open && !isTerminal(open.status) && open.agentId === agentId && open.kind === 'login') {
      return { kind: 'joined', record: open };
    }
    // Reserved a moment ago and not written yet: the other request is writing it.
    const reservedAt = Number(held.fingerprint);
    if (!open && deps.clock.now() - reservedAt < writeGraceMs && deps.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, retryMs));
      continue;
    }
    // Ended (or never written): this request opens the next one, unless another took the key first.
    if (await deps.idempotency.replace(agentId, key, held.handoffId, id, stamp(), ttlMs)) return lead;
  }
}
