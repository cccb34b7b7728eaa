import { describe, expect, it } from 'vitest';
import { callerName, mayActFor, originOf, type ApiCall, type Caller } from '../../src/core/caller.js';
import type { RouteRequest } from '../../src/core/http-route.js';
import { adminTokenAuthenticator, createApiGuard, type Authenticate } from '../../src/http/api-auth.js';

const request = (authorization?: string): RouteRequest => ({
  method: 'GET',
  path: '/v1/handoffs',
  params: {},
  query: new URLSearchParams(),
  headers: authorization === undefined ? {} : { authorization },
  rawBody: Buffer.alloc(0),
  remoteAddress: '127.0.0.9',
  requestId: 'req_0123456789abcdef01234567',
  signal: new AbortController().signal,
});

const adminToken = 'operator-token-0123456789';
const agentKey = 'hak_agentkeyagentkeyagentkey0123';
const authenticate: Authenticate = adminTokenAuthenticator(adminToken, async (bearer) =>
  bearer === agentKey ? { kind: 'agent', agentId: 'reporter' } : undefined,
);

/** A handler that records the call it was given. */
function recorder() {
  const calls: ApiCall[] = [];
  return {
    calls,
    handler: async (_req: RouteRequest, call: ApiCall) => (calls.push(call), { status: 200, body: { ok: true } }),
  };
}

describe('the API guard turns a request into an authenticated caller', () => {
  it('hands the admin token holder to the handler as admin, with the source address and request id', async () => {
    const { calls, handler } = recorder();
    const reply = await createApiGuard(authenticate)(handler)(request(`Bearer ${adminToken}`));
    expect(reply.status).toBe(200);
    expect(calls).toEqual([
      { caller: { kind: 'admin' }, source: '127.0.0.9', requestId: 'req_0123456789abcdef01234567' },
    ]);
  });

  it('hands an agent key holder to the handler as that agent', async () => {
    const { calls, handler } = recorder();
    await createApiGuard(authenticate)(handler)(request(`bearer ${agentKey}`));
    expect(calls[0]!.caller).toEqual({ kind: 'agent', agentId: 'reporter' });
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['a wrong token', 'Bearer operator-token-0123456780'],
    ['a prefix of the token', 'Bearer operator-token'],
    ['the token with more after it', `Bearer ${adminToken}0`],
    ['another scheme', `Basic ${adminToken}`],
    ['two tokens', `Bearer ${adminToken} ${adminToken}`],
  ])('answers 401 for %s and never calls the handler', async (_what, header) => {
    const { calls, handler } = recorder();
    await expect(createApiGuard(authenticate)(handler)(request(header))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect(calls).toEqual([]);
  });

  it('adminOnly lets the admin through and answers an agent key 403 admin_only', async () => {
    const { calls, handler } = recorder();
    const guard = createApiGuard(authenticate);
    await expect(guard.adminOnly(handler)(request(`Bearer ${agentKey}`))).rejects.toMatchObject({
      status: 403,
      code: 'admin_only',
    });
    expect(calls).toEqual([]);
    await expect(guard.adminOnly(handler)(request('Bearer nobody-at-all-000000'))).rejects.toMatchObject({
      status: 401,
    });
    expect((await guard.adminOnly(handler)(request(`Bearer ${adminToken}`))).status).toBe(200);
    expect(calls.map((c) => c.caller.kind)).toEqual(['admin']);
  });

  it('names callers the way audit entries do, and says who may act for whom', () => {
    const agent: Caller = { kind: 'agent', agentId: 'reporter' };
    expect(callerName({ kind: 'admin' })).toBe('admin');
    expect(callerName(agent)).toBe('agent:reporter');
    expect(originOf({ caller: agent, source: '::1', requestId: 'req_1' })).toEqual({
      actor: 'agent:reporter',
      source: '::1',
      requestId: 'req_1',
    });
    expect(mayActFor({ kind: 'admin' }, 'anyone')).toBe(true);
    expect(mayActFor(agent, 'reporter')).toBe(true);
    expect(mayActFor(agent, 'Reporter')).toBe(false);
    expect(mayActFor(agent, 'reporter2')).toBe(false);
  });
});
