import { originOf } from '../core/caller.js';
import { BadInputError } from '../core/errors.js';
import { isTerminal, type HandoffRecord } from '../core/handoff.js';
import { bodyJson, json, type Route, type RouteRequest } from '../core/http-route.js';
import type { HandoffView } from '../core/wire.js';
import { handoffFor } from '../engine/access.js';
import { requestFor } from '../engine/agent-admission.js';
import { retrieveCredential } from '../engine/credential-service.js';
import type { EngineDeps } from '../engine/engine-deps.js';
import { cancelHandoff, createHandoff, getHandoff } from '../engine/handoff-service.js';
import {
  isApprovalBody,
  parseApprovalRequest,
  parseExtendRequest,
  parseHandoffRequest,
} from '../engine/handoff-request.js';
import { extendHandoff } from '../engine/extend-handoff.js';
import { createApproval } from '../engine/approval-create.js';
import { toApprovalView, type ApprovalView } from '../core/approval-view.js';
import { toHandoffView } from '../engine/handoff-view.js';
import type { ApiGuard } from './api-auth.js';
import { readUntil, waitMsOf } from './long-poll.js';
import type { StatusEvents } from './status-events.js';

function jsonBody(req: RouteRequest): unknown {
  if (req.rawBody.length === 0) {
    throw new BadInputError('Send a JSON body.', { code: 'invalid_json', details: { field: 'body' } });
  }
  const body = bodyJson(req);
  if (body === undefined)
    throw new BadInputError('The body is not valid JSON.', { code: 'invalid_json', details: { field: 'body' } });
  return body;
}

/**
 * The agent-facing API. Every route needs an authenticated caller (the guard); an agent key
 * reaches only its own handoffs (engine/access.ts), the admin token every one.
 */
export function handoffRoutes(deps: { engine: EngineDeps; events: StatusEvents; guard: ApiGuard }): Route[] {
  const { engine, events, guard } = deps;
  const viewOf = async (record: HandoffRecord): Promise<HandoffView | ApprovalView> => {
    if (record.kind === 'approval') return toApprovalView(record);
    const credential = record.credentialId ? await engine.credentials.get(record.credentialId) : undefined;
    return toHandoffView(record, credential);
  };

  return [
    {
      method: 'POST',
      path: '/v1/handoffs',
      handler: guard(async (req, call) => {
        const body = jsonBody(req);
        const options = { origin: originOf(call), caller: call.caller };
        if (isApprovalBody(body)) {
          const request = await requestFor(engine, call, parseApprovalRequest(body));
          const { record, created } = await createApproval(engine, request, options);
          const { id, kind, status, thread, expiresAt, createdAt } = record;
          return json(created ? 201 : 200, { id, kind, status, thread, expiresAt, createdAt });
        }
        const request = await requestFor(engine, call, parseHandoffRequest(body));
        const { record, created } = await createHandoff(engine, request, options);
        const { id, kind, status, thread, protocol, expiresAt, createdAt } = record;
        const held = record.credentialId ? await engine.credentials.get(record.credentialId) : undefined;
        const { reused, credential } = toHandoffView(record, held);
        return json(created ? 201 : 200, {
          id,
          kind,
          status,
          thread,
          protocol,
          expiresAt,
          createdAt,
          reused,
          credential,
        });
      }),
    },
    {
      method: 'GET',
      path: '/v1/handoffs',
      handler: guard(async (req, call) => {
        const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 20) || 20, 1), 200);
        const open = req.query.get('status') === 'open';
        const count = open ? Math.min(limit * 10, 2000) : limit;
        const records =
          call.caller.kind === 'agent'
            ? await engine.store.recentOf(call.caller.agentId, count)
            : await engine.store.recent(count);
        const views = records
          .filter((r) => !open || !isTerminal(r.status))
          .slice(0, limit)
          .map((r) => (r.kind === 'approval' ? toApprovalView(r) : toHandoffView(r)));
        return json(200, { handoffs: views });
      }),
    },
    {
      method: 'GET',
      path: '/v1/handoffs/:id',
      handler: guard(async (req, call) => {
        const id = req.params.id!;
        const waitMs = waitMsOf(req);
        // The record the access check read is the first view: one read of it per request.
        if (waitMs === 0) return json(200, await viewOf(await handoffFor(engine, call, id, 'read')));
        // Armed before the first read: a change that lands between that read and the wait
        // still wakes it (see status-events.ts).
        const waiter = events.armHandoff(id);
        try {
          const first = await viewOf(await handoffFor(engine, call, id, 'wait'));
          const ifStatus = req.query.get('ifStatus') ?? first.status;
          const done = (view: HandoffView | ApprovalView) => view.status !== ifStatus || isTerminal(view.status);
          const read = async () => viewOf(await getHandoff(engine, id));
          return json(200, await readUntil(waiter, first, { read, done, waitMs, signal: req.signal }));
        } finally {
          waiter.close();
        }
      }),
    },
    {
      method: 'POST',
      path: '/v1/handoffs/:id/credential',
      handler: guard(async (req, call) => {
        const record = await handoffFor(engine, call, req.params.id!, 'credential');
        return json(200, await retrieveCredential(engine, record, originOf(call)));
      }),
    },
    {
      method: 'POST',
      path: '/v1/handoffs/:id/extend',
      handler: guard(async (req, call) => {
        await handoffFor(engine, call, req.params.id!, 'extend');
        const { expiresInMs } = parseExtendRequest(jsonBody(req));
        const record = await extendHandoff(engine, req.params.id!, expiresInMs, originOf(call));
        return json(200, record.kind === 'approval' ? toApprovalView(record) : toHandoffView(record));
      }),
    },
    {
      method: 'DELETE',
      path: '/v1/handoffs/:id',
      handler: guard(async (req, call) => {
        await handoffFor(engine, call, req.params.id!, 'cancel');
        const record = await cancelHandoff(engine, req.params.id!, originOf(call));
        return json(200, record.kind === 'approval' ? toApprovalView(record) : toHandoffView(record));
      }),
    },
  ];
}
