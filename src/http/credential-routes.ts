import { originOf } from '../core/caller.js';
import { ForbiddenError } from '../core/errors.js';
import { json, type Route } from '../core/http-route.js';
import { credentialFor } from '../engine/access.js';
import { listCredentials, reportRejected, revokeCredential } from '../engine/credential-admin.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import type { ApiGuard } from './api-auth.js';

/**
 * Credentials as things to manage: list (never the secret), revoke, and report one the
 * service rejected. Every route needs an authenticated caller (the guard); an agent key
 * reaches only its own credentials (engine/access.ts), the admin token every one.
 */
export function credentialRoutes(deps: { engine: EngineDeps; guard: ApiGuard }): Route[] {
  const { engine, guard } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/credentials',
      handler: guard(async (req, call) => {
        const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 50) || 50, 1), 500);
        let agentId = req.query.get('agent') || undefined;
        if (call.caller.kind === 'agent') {
          if (agentId !== undefined && agentId !== call.caller.agentId) {
            throw new ForbiddenError(
              `This key belongs to agent ${call.caller.agentId}; it lists only its own credentials.`,
              'agent_mismatch',
            );
          }
          agentId = call.caller.agentId;
        }
        return json(200, { credentials: await listCredentials(engine, { limit, ...(agentId ? { agentId } : {}) }) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/credentials/:id/revoke',
      handler: guard(async (req, call) => {
        await credentialFor(engine, call, req.params.id!, 'revoke');
        return json(200, await revokeCredential(engine, req.params.id!, originOf(call)));
      }),
    },
    {
      // "The service answered 401 to this credential": refresh it, or re-open the login.
      method: 'POST',
      path: '/v1/credentials/:id/rejected',
      handler: guard(async (req, call) => {
        await credentialFor(engine, call, req.params.id!, 'report_rejected');
        const result = await reportRejected(engine, req.params.id!, originOf(call));
        return json(result.status === 'reopened' ? 202 : 200, result);
      }),
    },
  ];
}
