import { json, type Route } from '../core/http-route.js';
import { listCredentials, reportRejected, revokeCredential } from '../engine/credential-admin.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { requireApiToken } from './api-auth.js';

/**
 * Credentials as things to manage: list (never the secret), revoke, and report one the
 * service rejected. Every route needs the bridge API token.
 */
export function credentialRoutes(deps: { engine: EngineDeps; apiToken: string }): Route[] {
  const { engine } = deps;
  const guard = (handler: Route['handler']) => requireApiToken(deps.apiToken, handler);
  return [
    {
      method: 'GET',
      path: '/v1/credentials',
      handler: guard(async (req) => {
        const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 50) || 50, 1), 500);
        const agentId = req.query.get('agent') ?? undefined;
        return json(200, { credentials: await listCredentials(engine, { limit, ...(agentId ? { agentId } : {}) }) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/credentials/:id/revoke',
      handler: guard(async (req) => json(200, await revokeCredential(engine, req.params.id!, 'the agent API'))),
    },
    {
      // "The service answered 401 to this credential": refresh it, or re-open the login.
      method: 'POST',
      path: '/v1/credentials/:id/rejected',
      handler: guard(async (req) => {
        const result = await reportRejected(engine, req.params.id!, 'api');
        return json(result.status === 'reopened' ? 202 : 200, result);
      }),
    },
  ];
}
