import { originOf } from '../core/caller.js';
import { BadInputError } from '../core/errors.js';
import { bodyJson, json, type Route } from '../core/http-route.js';
import { removeAgent } from '../engine/agent-removal.js';
import { agentNotFound, createAgent, parseNewAgent, rotateAgentKey, toAgentView } from '../engine/agents.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import type { ApiGuard } from './api-auth.js';

/**
 * Agents and their keys. The operator's token manages them; an agent key may read its own
 * record (`GET /v1/agents/<its id>`: its policy and limits) and nothing else.
 */
export function agentRoutes(deps: { engine: EngineDeps; guard: ApiGuard }): Route[] {
  const { engine, guard } = deps;
  return [
    {
      method: 'POST',
      path: '/v1/agents',
      handler: guard.adminOnly(async (req, call) => {
        const body = bodyJson(req);
        if (body === undefined)
          throw new BadInputError('Send a JSON body such as {"id": "deploy-bot"}.', {
            code: 'invalid_json',
            details: { field: 'body' },
          });
        return json(201, await createAgent(engine, parseNewAgent(body), originOf(call)));
      }),
    },
    {
      method: 'GET',
      path: '/v1/agents',
      handler: guard.adminOnly(async () =>
        json(200, { agents: (await engine.agents.list()).map((a) => toAgentView(engine, a)) }),
      ),
    },
    {
      method: 'GET',
      path: '/v1/agents/:id',
      handler: guard(async (req, call) => {
        const id = req.params.id!;
        // Another agent's record answers like a missing one.
        if (call.caller.kind === 'agent' && call.caller.agentId !== id) throw agentNotFound(id);
        const agent = await engine.agents.get(id);
        if (!agent) throw agentNotFound(id);
        return json(200, { agent: toAgentView(engine, agent) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/agents/:id/key',
      handler: guard.adminOnly(async (req, call) =>
        json(200, await rotateAgentKey(engine, req.params.id!, originOf(call))),
      ),
    },
    {
      method: 'DELETE',
      path: '/v1/agents/:id',
      handler: guard.adminOnly(async (req, call) =>
        json(200, await removeAgent(engine, req.params.id!, originOf(call))),
      ),
    },
  ];
}
