import type { CallContext } from '../core/login-protocol.js';
import { readTokenAnswer } from './authmd-answers.js';
import { malformed, rejected } from './service-answer-errors.js';
import { jwtBearerGrant } from './metadata-documents.js';
import type { ServiceHttp } from './service-http.js';

/**
 * The OAuth calls auth.md's later shapes share (AUTHMD-VERSIONS.md §3.4): the identity
 * assertion exchanged for an access token (RFC 7523 jwt-bearer, form-encoded, no client
 * authentication), and the access token revoked (RFC 7009).
 */
export async function exchangeAssertion(
  http: ServiceHttp,
  tokenEndpoint: string,
  assertion: string,
  now: number,
  ctx: CallContext,
  resource?: string,
): Promise<{ accessToken: string; expiresAt?: number; scopes?: readonly string[] }> {
  // `resource` (RFC 8707): the protected resource's own name for itself, as Tuist asks.
  const res = await http.request(tokenEndpoint, {
    ctx,
    form: { grant_type: jwtBearerGrant, assertion, ...(resource ? { resource } : {}) },
  });
  if (res.status !== 200) throw rejected(res, 'assertion exchange', 'assertion_exchange_rejected');
  const t = readTokenAnswer(res, now);
  if (!t.accessToken) throw malformed(res, 'assertion exchange (no access token)');
  return {
    accessToken: t.accessToken,
    ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
    ...(t.scopes ? { scopes: t.scopes } : {}),
  };
}

/** RFC 7009: 200 even for a token the server does not know (§2.2). */
export async function revokeAccessToken(
  http: ServiceHttp,
  revocationEndpoint: string,
  accessToken: string,
  ctx: CallContext,
): Promise<void> {
  const res = await http.request(revocationEndpoint, {
    ctx,
    form: { token: accessToken, token_type_hint: 'access_token' },
  });
  if (res.status !== 200 && res.status !== 204) throw rejected(res, 'revoke', 'revoke_rejected');
}

/** "ana@example.com" → "a***@example.com": enough for the approver to recognise, no more. */
export function maskedEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
