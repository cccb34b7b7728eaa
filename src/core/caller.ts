/**
 * Who is calling the bridge's API. The API guard (src/http/api-auth.ts) turns each request's
 * bearer token into a Caller; route handlers receive it inside an ApiCall, with the request's
 * source address and id, and every audit entry the request causes names all three.
 */
export type Caller =
  /** The operator's `HANDOFF_API_TOKEN`: every right, every agent's handoffs. */
  | { readonly kind: 'admin' }
  /** One agent's key: its own handoffs and credentials only, within its policy. */
  | { readonly kind: 'agent'; readonly agentId: string };

/** One authenticated API request, as route handlers receive it. */
export interface ApiCall {
  readonly caller: Caller;
  /** The TCP peer's address (a proxy's, when the bridge sits behind one). */
  readonly source: string;
  /** The bridge's own id for this request (`req_…`), also answered as `X-Request-Id`. */
  readonly requestId: string;
}

/** Who did something, as an audit entry records it. Never a secret. */
export interface AuditOrigin {
  /** `admin`, `agent:<id>`, a platform person's id, or `bridge…` for the bridge's own jobs. */
  readonly actor: string;
  /** Source address of the API request that caused it; absent for the bridge's own work. */
  readonly source?: string;
  /** Id of the API request that caused it; absent for the bridge's own work. */
  readonly requestId?: string;
}

/** How audit entries and logs name a caller: `admin` or `agent:<id>`. */
export function callerName(caller: Caller): string {
  return caller.kind === 'admin' ? 'admin' : `agent:${caller.agentId}`;
}

/** The audit origin of everything an API request does. */
export function originOf(call: ApiCall): AuditOrigin {
  return { actor: callerName(call.caller), source: call.source, requestId: call.requestId };
}

/** True when the caller may see and act on what belongs to `agentId` (its own, or the admin). */
export function mayActFor(caller: Caller, agentId: string): boolean {
  return caller.kind === 'admin' || caller.agentId === agentId;
}
