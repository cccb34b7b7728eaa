import { z } from 'zod';
import type { LoginRequest, Started } from '../core/login-protocol.js';
import { epochMs } from './agent-sessions-credential.js';
import { endpoint } from './agent-sessions-endpoints.js';
import { malformed, rejected } from './service-answer-errors.js';
import type { AgentSessionSecret } from './agent-sessions-secret.js';
import { createHexPkce } from './pkce.js';
import type { ServiceHttp } from './service-http.js';

/**
 * An agent-sessions login's start, detached mode (docs/protocols.md, "Agent sessions"): POST
 * `<service>/agent-sessions/start` with a hex PKCE challenge and the scopes asked for (the
 * reference CLI's when none), and the service's answer turned into the link the thread shows
 * and the sealed secret the exchange and the polls use.
 */
export interface AgentSessionStartDeps {
  readonly http: ServiceHttp;
  /** The `client_name` the service shows; default "handoff". */
  readonly clientName?: string;
}

/** Default scopes of the reference CLI, used when a request names none. */
export const defaultAgentSessionScopes = [
  'account:read',
  'projects:read',
  'projects:write',
  'analytics:read',
  'experiments:write',
  'feedback:write',
  'live:read',
] as const;

/** The start answer, read leniently. */
const startResponse = z.looseObject({
  auth_request_id: z.string().min(1),
  // Any text here: the engine judges the link (https, same site) and fails the handoff
  // `unsafe_approval_url` for a javascript:, data: or foreign one, rather than retrying.
  authorize_url: z.string().min(1).max(4096),
  poll_token: z.string().min(1),
  expires_at: epochMs,
  scopes: z.array(z.string()).nullish(),
  interval: z.number().positive().nullish(),
  poll_interval_ms: z.number().positive().nullish(),
  service_name: z.string().nullish(),
});

export async function startAgentSession(deps: AgentSessionStartDeps, req: LoginRequest): Promise<Started> {
  const pkce = createHexPkce();
  const res = await deps.http.request(endpoint(req.service, 'start'), {
    ctx: req,
    json: {
      mode: 'detached',
      client_type: 'handoff-bridge',
      client_name: deps.clientName ?? 'handoff',
      client_instance_id: req.handoffId,
      label: req.label,
      scopes: req.scopes.length > 0 ? req.scopes : [...defaultAgentSessionScopes],
      code_challenge: pkce.challenge,
      metadata: { handoff_id: req.handoffId, agent_id: req.agentId, correlation_id: req.correlationId },
    },
  });
  if (res.status !== 200 && res.status !== 201) throw rejected(res, 'login start', 'login_start_rejected');
  const parsed = startResponse.safeParse(res.body);
  if (!parsed.success) throw malformed(res, 'start');
  const body = parsed.data;
  const pollIntervalMs = body.poll_interval_ms ?? (body.interval != null ? body.interval * 1000 : undefined);
  return {
    approvalUrl: body.authorize_url,
    expiresAt: body.expires_at,
    answer: 'finish_code',
    secret: {
      authRequestId: body.auth_request_id,
      pollToken: body.poll_token,
      codeVerifier: pkce.verifier,
      service: req.service,
    } satisfies AgentSessionSecret,
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    ...(body.service_name ? { serviceName: body.service_name } : {}),
  };
}
