import { timingSafeEqual } from 'node:crypto';
import type { ApiCall, Caller } from '../core/caller.js';
import { ForbiddenError, UnauthorizedError } from '../core/errors.js';
import type { RouteHandler, RouteRequest, RouteResponse } from '../core/http-route.js';

/**
 * The API guard: the one place a request becomes an authenticated caller. Route handlers of
 * the agent API are written as `guard(async (req, call) => …)` and get the caller, the source
 * address and the request id in `call`; they never look at the Authorization header.
 */

/** A route handler of the agent API: the request and who made it. */
export type ApiHandler = (req: RouteRequest, call: ApiCall) => Promise<RouteResponse>;

/** Turns a presented bearer token into a caller, or undefined when it is nobody's. */
export type Authenticate = (bearer: string, req: RouteRequest) => Promise<Caller | undefined>;

export interface ApiGuard {
  /** Any authenticated caller: the admin token or an agent key. Others get 401. */
  (handler: ApiHandler): RouteHandler;
  /** The admin token only: an agent key gets 403 `admin_only`. */
  adminOnly(handler: ApiHandler): RouteHandler;
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerOf(req: RouteRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Constant-time comparison of two strings (their lengths may differ). */
export function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The operator's token: the admin caller; anything else goes to `others` (agent keys). */
export function adminTokenAuthenticator(token: string, others?: Authenticate): Authenticate {
  return async (bearer, req) =>
    sameSecret(bearer, token) ? { kind: 'admin' } : others ? others(bearer, req) : undefined;
}

export function createApiGuard(authenticate: Authenticate): ApiGuard {
  const callOf = async (req: RouteRequest): Promise<ApiCall> => {
    const bearer = bearerOf(req);
    const caller = bearer === undefined ? undefined : await authenticate(bearer, req);
    if (!caller) throw new UnauthorizedError();
    return { caller, source: req.remoteAddress, requestId: req.requestId };
  };
  const guard = ((handler: ApiHandler): RouteHandler =>
    async (req) =>
      handler(req, await callOf(req))) as ApiGuard;
  guard.adminOnly = (handler) => async (req) => {
    const call = await callOf(req);
    if (call.caller.kind !== 'admin')
      throw new ForbiddenError(
        'Only the operator (HANDOFF_API_TOKEN) may do this; an agent key may not.',
        'admin_only',
      );
    return handler(req, call);
  };
  return guard;
}
