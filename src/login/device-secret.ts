import { z } from 'zod';

/**
 * What a device-flow login keeps, sealed in the handoff record, between its start
 * (device-start.ts) and its polls (device.ts): the device code, the poll interval (grown by every
 * `slow_down`), the client it was issued to, and the authorization server's endpoints, checked
 * afresh on every use (device-endpoints.ts).
 */
export const deviceSecretShape = z.object({
  deviceCode: z.string(),
  clientId: z.string(),
  intervalMs: z.number().int().positive(),
  issuer: z.string(),
  tokenEndpoint: z.string(),
  deviceAuthorizationEndpoint: z.string(),
  revocationEndpoint: z.string().optional(),
  userinfoEndpoint: z.string().optional(),
  /** The service and the authorization server the endpoints were checked against (absent in secrets sealed before they were kept). */
  service: z.string().optional(),
  authorizationServer: z.string().optional(),
});
export type DeviceSecret = z.infer<typeof deviceSecretShape>;
