import { json, requestOrigin, type Route, type RouteResponse } from '../core/http-route.js';
import { formatUserCode, type DeviceState } from './device-state.js';
import { formFields, str } from './request-fields.js';
import { sha256, type SandboxState } from './sandbox-state.js';

/**
 * The OAuth endpoints of the sandbox: RFC 8628 device authorization, the token endpoint
 * (device_code and refresh_token grants) and RFC 7009 revocation. Form-encoded in, JSON out,
 * OAuth error vocabulary, `Cache-Control: no-store` on token answers (RFC 6749 §5.1).
 */
const oauthError = (status: number, error: string, description?: string): RouteResponse =>
  json(status, { error, ...(description ? { error_description: description } : {}) }, { 'cache-control': 'no-store' });

const tokenAnswer = (
  r: { accessToken: string; refreshToken: string; session: { accessExpiresAt: number; scopes: readonly string[] } },
  now: number,
) =>
  json(
    200,
    {
      access_token: r.accessToken,
      token_type: 'Bearer',
      expires_in: Math.max(1, Math.round((r.session.accessExpiresAt - now) / 1000)),
      refresh_token: r.refreshToken,
      scope: r.session.scopes.join(' '),
    },
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  );

export function deviceRoutes(device: DeviceState, sessions: SandboxState, base: string): Route[] {
  const now = () => sessions.options.clock.now();
  return [
    {
      method: 'POST',
      path: `${base}/oauth/device_authorization`,
      handler: async (req) => {
        const form = formFields(req);
        if (!form) return oauthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded.');
        const clientId = str(form.get('client_id'));
        if (!clientId) return oauthError(400, 'invalid_request', 'client_id is required.');
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const { authorization, deviceCode } = device.start(clientId, scopes.length ? scopes : ['account:read']);
        const verification = `${requestOrigin(req)}${base}/activate`;
        return json(
          200,
          {
            device_code: deviceCode,
            user_code: formatUserCode(authorization.userCode),
            verification_uri: verification,
            verification_uri_complete: `${verification}?user_code=${formatUserCode(authorization.userCode)}`,
            expires_in: Math.round(device.ttlMs / 1000),
            interval: authorization.interval,
          },
          { 'cache-control': 'no-store' },
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/oauth/token`,
      handler: async (req) => {
        const form = formFields(req);
        if (!form) return oauthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded.');
        switch (form.get('grant_type')) {
          case 'urn:ietf:params:oauth:grant-type:device_code': {
            const deviceCode = str(form.get('device_code'));
            const clientId = str(form.get('client_id'));
            if (!deviceCode || !clientId)
              return oauthError(400, 'invalid_request', 'device_code and client_id are required.');
            const result = device.poll(deviceCode, clientId);
            if (result.ok) return tokenAnswer(result, now());
            return oauthError(result.error === 'invalid_client' ? 401 : 400, result.error);
          }
          case 'refresh_token': {
            const refreshToken = str(form.get('refresh_token'));
            const result = refreshToken ? sessions.refresh(refreshToken) : undefined;
            if (!result) return oauthError(400, 'invalid_grant', 'The refresh token is not valid.');
            return tokenAnswer(result, now());
          }
          default:
            return oauthError(400, 'unsupported_grant_type');
        }
      },
    },
  ];
}

/**
 * OIDC Core §5.3 userinfo: who the access token belongs to. `sub` is the sandbox's account id;
 * every sandbox email counts as verified (signing in there is typing one).
 */
export function userinfoRoute(sessions: SandboxState, base: string): Route {
  return {
    method: 'GET',
    path: `${base}/oauth/userinfo`,
    handler: async (req) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const session = bearer ? sessions.authenticate(bearer) : undefined;
      if (!session)
        return json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return json(200, {
        sub: `acct_${sha256(session.accountEmail).slice(0, 12)}`,
        email: session.accountEmail,
        email_verified: true,
      });
    },
  };
}

/** RFC 7009: revoke an access or refresh token. Unknown tokens also answer 200 (§2.2). */
export function revocationRoute(sessions: SandboxState, base: string): Route {
  return {
    method: 'POST',
    path: `${base}/oauth/revoke`,
    handler: async (req) => {
      const form = formFields(req);
      const value = str(form?.get('token'));
      if (!value) return oauthError(400, 'invalid_request', 'token is required (form-encoded).');
      sessions.revokeToken(value);
      return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' };
    },
  };
}
