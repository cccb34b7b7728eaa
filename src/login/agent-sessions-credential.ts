import { z } from 'zod';
import type { IssuedCredential } from '../core/login-protocol.js';
import { approvedByFrom } from './approved-by.js';

/**
 * An agent session as the service answers it (its exchange and refresh), read leniently, and
 * the credential the bridge keeps of it: a field the answer lacks is kept from the credential it
 * refreshes.
 */

/** A time the service gives, as epoch ms. */
export const epochMs = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).transform((n) =>
  // Lenient: a value that can only be seconds is taken as seconds.
  n < 100_000_000_000 ? n * 1000 : n,
);

export const sessionShape = z.looseObject({
  id: z.string().nullish(),
  session_id: z.string().nullish(),
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  access_expires_at: epochMs.nullish(),
  refresh_expires_at: epochMs.nullish(),
  scopes: z.array(z.string()).nullish(),
});

/** The credential of `session`, who approved it from `account`, and what it lacks from `fallback` (the one refreshed). */
export function toCredential(
  session: z.infer<typeof sessionShape>,
  account?: { id?: unknown; email?: unknown } | null,
  fallback?: IssuedCredential,
): IssuedCredential {
  const sessionId = session.id ?? session.session_id ?? fallback?.sessionId;
  const refreshToken = session.refresh_token ?? fallback?.refreshToken;
  const refreshExpiresAt = session.refresh_expires_at ?? fallback?.refreshExpiresAt;
  const read = account ? approvedByFrom({ email: account.email, subject: account.id }, 'exchange') : undefined;
  const acct = read
    ? { ...(read.subject ? { id: read.subject } : {}), ...(read.email ? { email: read.email } : {}) }
    : fallback?.account;
  return {
    accessToken: session.access_token,
    tokenType: 'Bearer',
    scopes: session.scopes ?? fallback?.scopes ?? [],
    ...(refreshToken ? { refreshToken } : {}),
    ...(session.access_expires_at != null ? { expiresAt: session.access_expires_at } : {}),
    ...(refreshExpiresAt !== undefined ? { refreshExpiresAt } : {}),
    ...(sessionId ? { sessionId } : {}),
    ...(acct ? { account: { ...(acct.id ? { id: acct.id } : {}), ...(acct.email ? { email: acct.email } : {}) } } : {}),
  };
}
