import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { IssuedCredential } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { ServiceDiscovery } from './discovered-service.js';
import type { ServiceHttp } from './service-http.js';

/**
 * auth.md v0.1's claim (docs/protocols.md, "auth.md"): what its start and completion share — the
 * sealed secret between registering and the approver's code, where the code is completed, and the
 * credential the claim hands over.
 */
export interface AuthMdClaimDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  readonly clock: Clock;
  /** Every endpoint must pass it and be same-site as the service or its authorization server. */
  readonly policy: NetworkPolicy;
  readonly clientName: string;
}

/** When a server names no claim expiry: auth.md codes live about 10 minutes. */
export const defaultClaimLifetimeMs = 10 * 60_000;

export const claimSecretShape = z.object({
  plan: z.enum(['email', 'user_claimed', 'anonymous']),
  service: z.string(),
  scopes: z.array(z.string()),
  claimToken: z.string(),
  completeUri: z.string(),
  claimUri: z.string().optional(),
  email: z.string().optional(),
  key: z.object({ value: z.string(), expiresAt: z.number().optional(), scopes: z.array(z.string()) }).optional(),
  postClaimScopes: z.array(z.string()).optional(),
  /** The claim was already re-triggered once after an `otp_expired`. */
  retriggered: z.boolean(),
  /** The authorization server the endpoints came from (absent in secrets sealed before it was kept). */
  authorizationServer: z.string().optional(),
});
export type ClaimSecret = z.infer<typeof claimSecretShape>;

/** `<claim_uri>/complete`, keeping any query string where it belongs. */
export function completionUrl(claimUri: string): string {
  const url = new URL(claimUri);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/complete`;
  return url.toString();
}

/** The credential a completed claim hands over, or, for anonymous, the key it upgraded in place. */
export function credentialFrom(
  s: ClaimSecret,
  issued: { value: string; expiresAt?: number; scopes?: readonly string[] } | undefined,
): IssuedCredential | undefined {
  if (issued) {
    return {
      accessToken: issued.value,
      tokenType: 'Bearer',
      scopes: issued.scopes ?? s.postClaimScopes ?? s.scopes,
      ...(issued.expiresAt ? { expiresAt: issued.expiresAt } : {}),
    };
  }
  // Anonymous: the claim upgraded the key we already hold, in place.
  if (s.key)
    return {
      accessToken: s.key.value,
      tokenType: 'Bearer',
      scopes: s.postClaimScopes ?? s.key.scopes,
      ...(s.key.expiresAt ? { expiresAt: s.key.expiresAt } : {}),
    };
  return undefined;
}
