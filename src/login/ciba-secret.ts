import { z } from 'zod';

/**
 * What a CIBA login keeps, sealed in the handoff record, between its start (ciba-start.ts) and
 * its polls (ciba.ts): the server's `auth_req_id`, its poll interval, and where and how to reach
 * the authorization server again, checked afresh on every use (ciba-endpoints.ts).
 */
export const cibaSecretShape = z.object({
  authReqId: z.string(),
  intervalMs: z.number().int().positive(),
  issuer: z.string(),
  backchannelAuthenticationEndpoint: z.string(),
  tokenEndpoint: z.string(),
  authMethods: z.array(z.string()),
  signingAlgs: z.array(z.string()),
  revocationEndpoint: z.string().optional(),
  userinfoEndpoint: z.string().optional(),
  /** The origin whose configured client started this login (its credentials are looked up, never sealed here). */
  clientOrigin: z.string(),
  loginHint: z.string(),
  service: z.string(),
  authorizationServer: z.string().optional(),
});
export type CibaSecret = z.infer<typeof cibaSecretShape>;
