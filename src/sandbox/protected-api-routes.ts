import { json, type Route } from '../core/http-route.js';
import type { SandboxState } from './sandbox-state.js';

/** The sandbox's protected API: what an agent calls with the credential it was handed. */
export function protectedApiRoutes(state: SandboxState, base: string): Route[] {
  return [
    {
      method: 'GET',
      path: `${base}/api/me`,
      handler: async (req) => {
        const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const session = bearer ? state.authenticate(bearer) : undefined;
        if (!session) {
          return json(401, { error: 'unauthorized', message: 'Send a live agent session token as a bearer token.' }, {
            'www-authenticate': 'Bearer realm="sandbox"',
          });
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
