import type { CallContext, ProtocolName } from '../core/login-protocol.js';

/**
 * What discovery learned about a service, normalised from the many shapes real servers
 * publish. Public metadata only: nothing here is secret, so it may be cached in plain text.
 */

/** The auth.md `agent_auth` block (docs/protocols.md, "auth.md"), with field-name variants folded in. */
export interface AgentAuthMetadata {
  /** Where to POST a registration (`register_uri`, `registration_endpoint`, `identity_endpoint`). */
  readonly registerUri: string;
  /** Where to POST a claim (`claim_uri`, `claim_endpoint`); completion is `<claimUri>/complete`. */
  readonly claimUri?: string;
  /** Per registration type, when the service names a claim URI inside the type's block. */
  readonly claimUris: Readonly<Record<string, string>>;
  /** `revocation_uri` of the block, else the server's RFC 7009 `revocation_endpoint`. */
  readonly revocationUri?: string;
  /** Registration types accepted: `anonymous`, `identity_assertion`, `user_claimed`, and others. */
  readonly types: readonly string[];
  /** Assertion types for `identity_assertion` (e.g. `verified_email`). */
  readonly assertionTypes: readonly string[];
  /** `user_claimed` claim methods (`google_oauth`, `github_oauth`…), in the service's order. */
  readonly claimMethods: readonly string[];
  /** URL of the service's auth.md, for people reading errors. */
  readonly skill?: string;
  /**
   * The shape the metadata suggests (AUTHMD-VERSIONS.md §7): `0.1` (`register_uri`), `0.6`
   * (the polling line: `identity_endpoint` and a claim grant), `0.7` (the read-back line:
   * `identity_endpoint` without one). The registration answer has the final word. Absent: 0.1.
   */
  readonly line?: AuthMdLine;
  /** The authorization server's `token_endpoint` (polling and read-back lines). */
  readonly tokenEndpoint?: string;
  /** The server's RFC 7009 `revocation_endpoint` (polling and read-back lines; not v0.1's provider back-channel). */
  readonly oauthRevocationEndpoint?: string;
  /** The claim grant the polling line polls with (`urn:workos:agent-auth:grant-type:claim` or a variant). */
  readonly claimGrant?: string;
  /** `grant_types_supported` lists jwt-bearer (RFC 7523). */
  readonly jwtBearer?: boolean;
}

/** auth.md's deployed shapes: v0.1, the polling line (v0.4–v0.6), the read-back line (v0.7). */
export type AuthMdLine = '0.1' | '0.6' | '0.7';

/** RFC 8628 endpoints from authorization-server metadata. */
export interface DeviceMetadata {
  readonly issuer: string;
  readonly deviceAuthorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint?: string;
  /** OIDC `userinfo_endpoint`: who approved, asked with the new access token. */
  readonly userinfoEndpoint?: string;
}

/**
 * OpenID CIBA (poll mode) from authorization-server metadata: a
 * `backchannel_authentication_endpoint` with `urn:openid:params:grant-type:ciba` among the
 * grant types (src/login/ciba-metadata.ts reads it).
 */
export interface CibaMetadata {
  readonly issuer: string;
  readonly backchannelAuthenticationEndpoint: string;
  readonly tokenEndpoint: string;
  /** `token_endpoint_auth_methods_supported`; RFC 8414's default `client_secret_basic` when absent. */
  readonly authMethods: readonly string[];
  /** `token_endpoint_auth_signing_alg_values_supported` (for `private_key_jwt`), when listed. */
  readonly signingAlgs: readonly string[];
  readonly revocationEndpoint?: string;
  readonly userinfoEndpoint?: string;
}

export interface DiscoveredService {
  /** The service URL discovery started from (normalised, no trailing slash). */
  readonly service: string;
  /** `resource_name` from the protected-resource metadata. */
  readonly resourceName?: string;
  /** `resource` from the protected-resource metadata (same origin as the service, else discovery failed). */
  readonly resource?: string;
  /** `resource_logo_uri`, when it is an http(s) URL. */
  readonly logoUri?: string;
  /** The authorization server whose metadata was read. */
  readonly authorizationServer?: string;
  readonly agentAuth?: AgentAuthMetadata;
  readonly device?: DeviceMetadata;
  readonly ciba?: CibaMetadata;
  /**
   * Per protocol that publishes no metadata, whether the service answered its probe like a
   * server of it (agent sessions: `POST <service>/agent-sessions/start`). A name absent: not asked.
   */
  readonly probed?: Readonly<Record<ProtocolName, boolean>>;
  /** What discovery found and did not, in short phrases, for the `no_supported_login` message. */
  readonly findings: readonly string[];
}

/** Discovery as the protocols use it: cached, so asking again is cheap. */
export interface ServiceDiscovery {
  /** Throws HandoffError codes such as `metadata_not_json`, `metadata_invalid`, `service_timeout`. */
  discover(service: string, ctx: CallContext): Promise<DiscoveredService>;
}
