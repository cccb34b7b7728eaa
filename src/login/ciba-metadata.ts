import { z } from 'zod';
import type { CibaMetadata } from './discovered-service.js';

/**
 * OpenID CIBA Core 1.0 §4 in authorization-server metadata, read leniently like the rest of
 * metadata-documents.ts: `backchannel_authentication_endpoint`, `grant_types_supported` with
 * `urn:openid:params:grant-type:ciba` (when the server lists grant types at all),
 * `backchannel_token_delivery_modes_supported` (it must allow `poll` when listed: the bridge
 * speaks no other mode), and the token endpoint's client authentication methods. Shapes checked
 * (test/unit/ciba-metadata.test.ts): an Auth0 tenant's published `openid-configuration`
 * (`/bc-authorize`, modes `["poll"]`, no `grant_types_supported`), Keycloak's realm document
 * (`/protocol/openid-connect/ext/ciba/auth`, poll and ping, device flow beside it), the CIBA
 * Core §4 example, and the endpoint paths Connect2id, Duende, PingFederate and PingOne document.
 */
export const cibaGrantType = 'urn:openid:params:grant-type:ciba';

const httpUrl = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s]+$/i, 'must be an http(s) URL');
/** A list of short names; anything else (a number, an object) reads as none. */
const names = z
  .unknown()
  .optional()
  .transform((v) =>
    (typeof v === 'string' ? [v] : Array.isArray(v) ? v : []).filter(
      (x): x is string => typeof x === 'string' && x.length <= 200,
    ),
  );

const cibaFields = z.looseObject({
  backchannel_authentication_endpoint: httpUrl.nullish(),
  grant_types_supported: names,
  backchannel_token_delivery_modes_supported: names,
  token_endpoint_auth_methods_supported: names,
  token_endpoint_auth_signing_alg_values_supported: names,
});

export type CibaReading =
  | { readonly kind: 'none' }
  | { readonly kind: 'unusable'; readonly why: string }
  | { readonly kind: 'found'; readonly ciba: CibaMetadata };

/**
 * What the metadata says of CIBA. `doc` is the whole authorization-server document; the other
 * endpoints come already read. A backchannel endpoint of the wrong type is `unusable`, not an
 * error: the service may still speak another protocol.
 */
export function readCibaMetadata(
  doc: Record<string, unknown>,
  known: {
    readonly issuer: string;
    readonly tokenEndpoint?: string;
    readonly revocationEndpoint?: string;
    readonly userinfoEndpoint?: string;
  },
): CibaReading {
  if (doc.backchannel_authentication_endpoint == null) return { kind: 'none' };
  const parsed = cibaFields.safeParse(doc);
  if (!parsed.success || !parsed.data.backchannel_authentication_endpoint)
    return { kind: 'unusable', why: 'a backchannel_authentication_endpoint that is not an http(s) URL' };
  const m = parsed.data;
  const endpoint = parsed.data.backchannel_authentication_endpoint;
  // Auth0's published openid-configuration has no grant_types_supported at all: an absent list
  // is no evidence against CIBA; a list that leaves the grant out is.
  const grantsListed = doc.grant_types_supported != null;
  if (grantsListed && !m.grant_types_supported.includes(cibaGrantType))
    return {
      kind: 'unusable',
      why: `a backchannel_authentication_endpoint without ${cibaGrantType} in grant_types_supported`,
    };
  const modes = m.backchannel_token_delivery_modes_supported;
  // REQUIRED by CIBA §4, but absent on some servers: poll is the mode every server implements.
  if (modes.length > 0 && !modes.includes('poll'))
    return { kind: 'unusable', why: 'a CIBA endpoint without poll mode (the bridge speaks no ping or push)' };
  if (!known.tokenEndpoint) return { kind: 'unusable', why: 'a CIBA endpoint without a token_endpoint' };
  return {
    kind: 'found',
    ciba: {
      issuer: known.issuer,
      backchannelAuthenticationEndpoint: endpoint,
      tokenEndpoint: known.tokenEndpoint,
      // RFC 8414 §2: absent means client_secret_basic.
      authMethods: m.token_endpoint_auth_methods_supported.length
        ? m.token_endpoint_auth_methods_supported
        : ['client_secret_basic'],
      signingAlgs: m.token_endpoint_auth_signing_alg_values_supported,
      ...(known.revocationEndpoint ? { revocationEndpoint: known.revocationEndpoint } : {}),
      ...(known.userinfoEndpoint ? { userinfoEndpoint: known.userinfoEndpoint } : {}),
    },
  };
}
