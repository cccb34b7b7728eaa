import { deflateRawSync, inflateRawSync } from 'node:zlib';
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

/**
 * The secret is sealed compressed (raw deflate against this dictionary, behind a zero byte that
 * no JSON text starts with) when that is shorter, since it stays in the record for as long as
 * the handoff waits: ~240 characters of an agent-sessions secret seal in ~100 fewer, which keeps
 * a waiting login's record in a smaller allocation (issue #14 item 8). Secrets sealed as JSON
 * text, before or because compression did not pay, still open.
 *
 * Frozen: a secret sealed with it can only be opened with the same bytes, and waiting records
 * hold such secrets. Pinned by test/unit/login-secret.test.ts; a different dictionary needs a
 * marker byte of its own.
 */
export const loginSecretDictionary = Buffer.from(
  '{"plan":"email","claimToken":"","completeUri":"","claimUri":"","deviceCode":"","clientId":"",' +
    '"authReqId":"","intervalMs":5000,"issuer":"https://","tokenEndpoint":"","revocationEndpoint":"",' +
    '"userinfoEndpoint":"","scopes":[],"protocolVersion":"","authRequestId":"ar_","pollToken":"",' +
    '"codeVerifier":"","service":"https://',
);
const compressed = 0;
/** Far above any protocol's secret: what a sealed secret may inflate to. */
const maxSecretBytes = 1 << 20;

export function sealLoginSecret(vault: Vault, handoffId: string, secret: ProtocolSecret): string {
  const json = Buffer.from(JSON.stringify(secret), 'utf8');
  const packed = deflateRawSync(json, { level: 9, dictionary: loginSecretDictionary });
  const plaintext = packed.length + 1 < json.length ? Buffer.concat([Buffer.of(compressed), packed]) : json;
  return vault.seal(plaintext, context(handoffId));
}

/** The record's secret, or undefined when it has none (never started, or already ended). */
export function openLoginSecret(vault: Vault, record: HandoffRecord): ProtocolSecret | undefined {
  if (!record.sealedSecret) return undefined;
  const plaintext = vault.openBytes(record.sealedSecret, context(record.id));
  const json =
    plaintext[0] === compressed
      ? inflateRawSync(plaintext.subarray(1), { dictionary: loginSecretDictionary, maxOutputLength: maxSecretBytes })
      : plaintext;
  return JSON.parse(json.toString('utf8')) as ProtocolSecret;
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
