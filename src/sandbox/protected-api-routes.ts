import { json, type Route } from '../core/http-route.js';
import { bearerChallenge } from './metadata-routes.js';
import type { SandboxState } from './sandbox-state.js';

/** The sandbox's protected API: what an agent calls with the credential it was handed. */
export function protectedApiRoutes(state: SandboxState, base: string, withMetadata = true): Route[] {
  return [
    {
      method: 'GET',
      path: `${base}/api/me`,
      handler: async (req) => {
        const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const session = bearer ? state.authenticate(bearer) : undefined;
        if (!session) {
          // RFC 9728 §5.1: the challenge names the metadata that says how to get a token.
          return json(
            401,
            { error: 'unauthorized', message: 'Send a live token as a bearer token.' },
            {
              'www-authenticate': bearerChallenge(req, base, withMetadata),
            },
          );
        }
        return json(200, {
          account: { email: session.accountEmail },
          session_id: session.id,
          scopes: session.scopes,
          agent_id: req.headers['x-agent-id'] ?? null,
        });
      },
    },
  ];
}
