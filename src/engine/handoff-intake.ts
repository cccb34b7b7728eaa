import { createHash } from 'node:crypto';
import type { AuditOrigin, Caller } from '../core/caller.js';
import { ConflictError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import { admitHandoff } from './agent-admission.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * The steps every new handoff goes through, whatever its kind (a login in handoff-service.ts,
 * an approval in approval-create.ts): its idempotency key reserved, the agent's limits applied,
 * and the record written — each undone if a later one fails, so a refused or failed request
 * leaves neither a used key nor a counted slot behind.
 */
export type Intake =
  | { readonly kind: 'existing'; readonly record: HandoffRecord }
  | { readonly kind: 'new'; readonly id: string; readonly now: number };

export async function admitNewHandoff(
  deps: EngineDeps,
  input: {
    readonly request: { readonly idempotencyKey?: string | undefined; readonly agent: { readonly id: string } };
    readonly expiresInMs: number;
    readonly caller: Caller | undefined;
    readonly origin: AuditOrigin;
    /** The new handoff's id, when chosen already (a join key reserved it: src/engine/login-join.ts). */
    readonly id?: string;
  },
): Promise<Intake> {
  const { request, expiresInMs } = input;
  const agentId = request.agent.id;
  let id = input.id ?? newId('handoff');
  let reservedKey = false;
  if (request.idempotencyKey) {
    const reservation = await deps.idempotency.reserve(
      agentId,
      request.idempotencyKey,
      id,
      fingerprint(request),
      expiresInMs + 3_600_000,
    );
    if (reservation.kind === 'existing' && reservation.handoffId) {
      if (!reservation.sameRequest) {
        throw new ConflictError(
          'This idempotencyKey was already used for a different request; use a new key.',
          'idempotency_key_reused',
        );
      }
      const existing = await deps.store.get(reservation.handoffId);
      if (existing) return { kind: 'existing', record: existing };
      id = reservation.handoffId; // reserved but never written (a crash in between): write it now
    } else reservedKey = true;
  }

  const now = deps.clock.now();
  try {
    await admitHandoff(deps, {
      caller: input.caller,
      origin: input.origin,
      agentId,
      handoffId: id,
      expiresAt: now + expiresInMs,
    });
  } catch (err) {
    // Refused: the key may be used again once there is room.
    if (reservedKey) await deps.idempotency.release(agentId, request.idempotencyKey!, id);
    throw err;
  }
  return { kind: 'new', id, now };
}

/** Writes the admitted handoff; a failed write gives its slot back. */
export async function storeNewHandoff(deps: EngineDeps, record: HandoffRecord): Promise<void> {
  try {
    await deps.store.create(record);
  } catch (err) {
    await deps.agentLimits.release(record.agentId, record.id);
    throw err;
  }
}

/** The request without its key: the same key with another request is refused. */
function fingerprint(request: { readonly idempotencyKey?: string | undefined }): string {
  const { idempotencyKey: _ignored, ...rest } = request;
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url').slice(0, 22);
}
