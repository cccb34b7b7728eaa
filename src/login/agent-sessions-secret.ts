import { z } from 'zod';

/**
 * What an agent-sessions login keeps, sealed in the handoff record, between its start
 * (agent-sessions-start.ts) and its exchange (agent-sessions-complete.ts) or polls
 * (agent-sessions.ts): the service's request id and poll token, the PKCE verifier, the service.
 */
export const agentSessionSecretShape = z.object({
  authRequestId: z.string(),
  pollToken: z.string(),
  codeVerifier: z.string(),
  service: z.string(),
});
export type AgentSessionSecret = z.infer<typeof agentSessionSecretShape>;
