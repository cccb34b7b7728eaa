import * as oauth from 'oauth4webapi';
import type { CallContext } from '../core/login-protocol.js';
import type { ServiceHttp } from './service-http.js';

/**
 * Lets oauth4webapi encode and check the OAuth wire format while every request still goes
 * through the service HTTP client (timeouts, body limits, same-origin redirects, retries,
 * 429 → RateLimitedError, agent headers). Pass the result as `[oauth.customFetch]`.
 */
export type OAuthFetch = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown },
) => Promise<Response>;

/** Statuses whose responses have no body (the Response constructor refuses one). */
const bodiless = new Set([101, 103, 204, 205, 304]);

export function oauthFetch(http: ServiceHttp, ctx?: CallContext): OAuthFetch {
  return async (url, init) => {
    const headers = { ...(init.headers ?? {}) };
    const contentType = headers['content-type'];
    delete headers['content-type'];
    delete headers['user-agent']; // ours names the bridge
    const text = init.body === undefined || init.body === null ? undefined : String(init.body);
    const res = await http.request(url, {
      method: init.method === 'GET' ? 'GET' : 'POST',
      headers,
      ...(text !== undefined ? { raw: { contentType: contentType ?? 'application/x-www-form-urlencoded', text } } : {}),
      ...(ctx ? { ctx } : {}),
    });
    // The parsed body went through wellFormed(): hand oauth4webapi that, re-serialised, so a
    // lone surrogate the service spelled in JSON (`"\ud800"`) never reaches a record.
    const answer = res.body !== undefined ? JSON.stringify(res.body) : res.text;
    return new Response(bodiless.has(res.status) ? null : answer, { status: res.status, headers: [...res.headers] });
  };
}

/**
 * An OAuth error some servers (well-known code hosts among them) send with HTTP 200: read it
 * before oauth4webapi does, which would take the answer for a token.
 */
export async function oauthErrorIn(response: Response): Promise<string | undefined> {
  if (response.status !== 200) return undefined;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: unknown; access_token?: unknown } | undefined;
  return typeof body?.error === 'string' && body.access_token === undefined ? body.error : undefined;
}

/**
 * RFC 7009: revokes the refresh token first (which revokes the grant, §2.1), then the access
 * token; a token the credential does not hold is skipped.
 */
export async function revokeTokens(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  credential: { readonly refreshToken?: string | undefined; readonly accessToken?: string | undefined },
  options: oauth.RevocationRequestOptions,
): Promise<void> {
  for (const token of [credential.refreshToken, credential.accessToken]) {
    if (!token) continue;
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token, options));
  }
}
