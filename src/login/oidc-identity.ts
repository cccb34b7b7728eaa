import * as oauth from 'oauth4webapi';
import type { ApprovedBy } from '../core/login-protocol.js';
import { approvedByFrom } from './approved-by.js';

/**
 * Who approved an OAuth login, from what the authorization server says about the account:
 * the token answer's `id_token` (OIDC Core §3.1.3.7 — received straight from the token
 * endpoint, so oauth4webapi checks its issuer, audience and expiry, not a signature), else
 * the userinfo endpoint when the server advertises one (OIDC Core §5.3), asked with the new
 * access token. Either may be missing or refuse (no `openid` scope): then the answer is
 * undefined and the engine treats the approver as unknown. Never throws.
 */
export async function identifyAccount(input: {
  readonly as: oauth.AuthorizationServer;
  readonly client: oauth.Client;
  readonly token: oauth.TokenEndpointResponse;
  /** oauth4webapi options: the bridge's fetch (checked, bounded) and the insecure-http switch. */
  readonly options: oauth.UserInfoRequestOptions;
}): Promise<ApprovedBy | undefined> {
  let subject: string | undefined;
  try {
    const claims = oauth.getValidatedIdTokenClaims(input.token);
    if (claims) {
      subject = claims.sub;
      const fromIdToken = approvedByFrom(
        { email: claims.email, emailVerified: claims.email_verified, subject: claims.sub },
        'id_token',
      );
      if (fromIdToken?.email) return fromIdToken;
    }
  } catch {
    // No claims kept for this answer: go on to userinfo.
  }
  if (!input.as.userinfo_endpoint) return subject ? { source: 'id_token', subject } : undefined;
  try {
    const response = await oauth.userInfoRequest(input.as, input.client, input.token.access_token, input.options);
    // With an id_token, userinfo must describe the same subject (OIDC Core §5.3.2).
    const info = await oauth.processUserInfoResponse(
      input.as,
      input.client,
      subject ?? oauth.skipSubjectCheck,
      response,
    );
    return approvedByFrom({ email: info.email, emailVerified: info.email_verified, subject: info.sub }, 'userinfo');
  } catch {
    return subject ? { source: 'id_token', subject } : undefined;
  }
}
