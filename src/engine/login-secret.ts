import type { HandoffRecord } from '../core/handoff.js';
import type { ApprovedBy, IssuedCredential, ProtocolSecret } from '../core/login-protocol.js';
import type { Vault } from '../store/vault.js';

/**
 * A handoff's protocol secret (poll token, PKCE verifier, claim token, device code) lives
 * sealed inside its own record. It therefore changes in the same compare-and-set as the
 * state it belongs to, disappears with the transition that ends the handoff, and costs no
 * key of its own while the handoff waits.
 */
export const loginSecretContext = (handoffId: string): string => `login-secret:${handoffId}`;
const context = loginSecretContext;

export function sealLoginSecret(vault: Vault, handoffId: string, secret: ProtocolSecret): string {
  return vault.seal(JSON.stringify(secret), context(handoffId));
}

/** The record's secret, or undefined when it has none (never started, or already ended). */
export function openLoginSecret(vault: Vault, record: HandoffRecord): ProtocolSecret | undefined {
  return record.sealedSecret
    ? (JSON.parse(vault.open(record.sealedSecret, context(record.id))) as ProtocolSecret)
    : undefined;
}

/** A login result held until an approver's word (see HandoffRecord.serviceReadyAt). */
export interface HeldResult {
  /** What the service issued; stored as the handoff's credential once an approver confirms. */
  readonly credential: IssuedCredential;
  /** Whom the service named, if anyone (shown masked in the thread, kept for the audit). */
  readonly approvedBy?: ApprovedBy;
}

export function sealHeldResult(vault: Vault, handoffId: string, held: HeldResult): string {
  return vault.seal(JSON.stringify(held), `held-result:${handoffId}`);
}

/** The record's held result, or undefined when it holds none. */
export function openHeldResult(vault: Vault, record: HandoffRecord): HeldResult | undefined {
  return record.sealedHeld
    ? (JSON.parse(vault.open(record.sealedHeld, `held-result:${record.id}`)) as HeldResult)
    : undefined;
}
