import { z } from 'zod';
import { UpstreamError } from '../core/errors.js';
import { readCibaMetadata } from './ciba-metadata.js';
import type { AgentAuthMetadata, AuthMdLine, CibaMetadata, DeviceMetadata } from './discovered-service.js';

/** RFC 7523's grant, which auth.md's later shapes exchange their identity assertion with. */
export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Reading the two metadata documents leniently: RFC 9728 protected-resource metadata and
 * RFC 8414 authorization-server metadata with auth.md's `agent_auth` block. Unknown fields
 * are ignored, `null` means absent, `issuer` may be missing, a single string stands for a
 * one-element list, and the field-name variants seen on real servers are folded together.
 * A field we use with the wrong type is an error (`metadata_invalid`), not a guess.
 */

const httpUrl = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s]+$/i, 'must be an http(s) URL');
const optionalUrl = httpUrl.nullish();
const stringList = z
  .union([z.string(), z.array(z.string())])
  .nullish()
  .transform((v) => (v == null ? [] : typeof v === 'string' ? [v] : v));
const displayText = z
  .string()
  .nullish()
  .transform((v) =>
    v
      ? v
          // eslint-disable-next-line no-control-regex -- control characters are what this strips
          .replace(/[\u0000-\u001f\u007f]/g, ' ')
          .trim()
          .slice(0, 100) || undefined
      : undefined,
  );

/** Informational links: kept when they are http(s) URLs, dropped otherwise (some are relative). */
const infoUrl = z
  .unknown()
  .transform((v) => (typeof v === 'string' && /^https?:\/\//i.test(v) ? v : undefined))
  .optional();

const protectedResource = z.looseObject({
  resource: z.string().nullish(),
  resource_name: displayText,
  // A logo that is not an http(s) URL (data:, javascript:) is dropped, not shown.
  resource_logo_uri: infoUrl,
  authorization_servers: z
    .union([httpUrl, z.array(httpUrl)])
    .nullish()
    .transform((v) => (v == null ? [] : typeof v === 'string' ? [v] : v)),
});

export interface ProtectedResourceInfo {
  readonly resource?: string;
  readonly resourceName?: string;
  readonly logoUri?: string;
  readonly authorizationServers: readonly string[];
}

/**
 * `source` names the document in our own words ("The resource metadata of https://x"): never
 * the URL or the content the service wrote. The field path is ours (the schema's).
 */
function invalid(source: string, error: z.ZodError): UpstreamError {
  const issue = error.issues[0];
  const where = issue?.path.length
    ? issue.path.filter((p) => typeof p === 'number' || /^[a-z_]{1,40}$/.test(String(p))).join('.')
    : 'the document';
  return new UpstreamError(
    `${source.slice(0, 200)} is not valid: ${where || 'a field'} ${issue?.message ?? 'has the wrong shape'}.`,
    {
      code: 'metadata_invalid',
      upstreamStatus: 200,
      retry: 'never',
    },
  );
}

function objectOrFail(doc: unknown, source: string): Record<string, unknown> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UpstreamError(`${source.slice(0, 200)} is not a JSON object.`, {
      code: 'metadata_invalid',
      upstreamStatus: 200,
      retry: 'never',
    });
  }
  return doc as Record<string, unknown>;
}

export function readProtectedResource(doc: unknown, source: string): ProtectedResourceInfo {
  const parsed = protectedResource.safeParse(objectOrFail(doc, source));
  if (!parsed.success) throw invalid(source, parsed.error);
  const p = parsed.data;
  return {
    authorizationServers: p.authorization_servers,
    ...(p.resource ? { resource: p.resource } : {}),
    ...(p.resource_name ? { resourceName: p.resource_name } : {}),
    ...(p.resource_logo_uri ? { logoUri: p.resource_logo_uri } : {}),
  };
}

/** One registration type's own block, e.g. `"anonymous": {"credential_types_supported": […]}`. */
const typeBlock = z
  .looseObject({
    claim_uri: optionalUrl,
    claim_endpoint: optionalUrl,
    assertion_types_supported: stringList,
    claim_methods_supported: stringList,
  })
  .nullish();

const agentAuthBlock = z.looseObject({
  skill: infoUrl,
  skill_uri: infoUrl,
  register_uri: optionalUrl,
  registration_endpoint: optionalUrl,
  identity_endpoint: optionalUrl,
  claim_uri: optionalUrl,
  claim_endpoint: optionalUrl,
  revocation_uri: optionalUrl,
  identity_types_supported: stringList,
  identity_assertion: typeBlock,
  verified_email: typeBlock,
  anonymous: typeBlock,
  user_claimed: typeBlock,
});

const authorizationServer = z.looseObject({
  issuer: z.string().nullish(),
  token_endpoint: optionalUrl,
  device_authorization_endpoint: optionalUrl,
  revocation_endpoint: optionalUrl,
  userinfo_endpoint: optionalUrl,
  // Read only to tell auth.md's shapes apart: anything odd counts as no grants, never as an error.
  grant_types_supported: z
    .unknown()
    .optional()
    .transform((v) =>
      Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : typeof v === 'string' ? [v] : [],
    ),
  agent_auth: agentAuthBlock.nullish(),
});

export interface AuthorizationServerInfo {
  readonly issuer: string;
  readonly tokenEndpoint?: string;
  readonly revocationEndpoint?: string;
  readonly device?: DeviceMetadata;
  /** OpenID CIBA in poll mode (src/login/ciba-metadata.ts). */
  readonly ciba?: CibaMetadata;
  /** A CIBA endpoint the bridge cannot use, and why (for the `no_supported_login` message). */
  readonly cibaUnusable?: string;
  /** Present when the block names somewhere to register. */
  readonly agentAuth?: AgentAuthMetadata;
  /** An `agent_auth` block exists but names no registration endpoint. */
  readonly agentAuthWithoutRegistration: boolean;
}

export function readAuthorizationServer(doc: unknown, source: string, base: string): AuthorizationServerInfo {
  const raw = objectOrFail(doc, source);
  const parsed = authorizationServer.safeParse(raw);
  if (!parsed.success) throw invalid(source, parsed.error);
  const a = parsed.data;
  // Real servers omit `issuer`; the base we fetched from is what identifies them then.
  const issuer = a.issuer?.trim() || base;
  const revocationEndpoint = a.revocation_endpoint ?? undefined;
  const tokenEndpoint = a.token_endpoint ?? undefined;
  const userinfoEndpoint = a.userinfo_endpoint ?? undefined;
  const device =
    a.device_authorization_endpoint && tokenEndpoint
      ? {
          issuer,
          deviceAuthorizationEndpoint: a.device_authorization_endpoint,
          tokenEndpoint,
          ...(revocationEndpoint ? { revocationEndpoint } : {}),
          ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
        }
      : undefined;
  // The document as served: CIBA tells an absent grant list from an empty one.
  const ciba = readCibaMetadata(raw, {
    issuer,
    ...(tokenEndpoint ? { tokenEndpoint } : {}),
    ...(revocationEndpoint ? { revocationEndpoint } : {}),
    ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
  });
  const block = a.agent_auth ?? undefined;
  const registerUri = block
    ? (block.register_uri ?? block.registration_endpoint ?? block.identity_endpoint ?? undefined)
    : undefined;
  let agentAuth: AgentAuthMetadata | undefined;
  if (block && registerUri) {
    const blocks = {
      identity_assertion: block.identity_assertion,
      verified_email: block.verified_email,
      anonymous: block.anonymous,
      user_claimed: block.user_claimed,
    };
    const claimUris: Record<string, string> = {};
    for (const [type, b] of Object.entries(blocks)) {
      const uri = b?.claim_uri ?? b?.claim_endpoint;
      if (uri) claimUris[type === 'verified_email' ? 'identity_assertion' : type] ??= uri;
    }
    const skill = block.skill ?? block.skill_uri ?? undefined;
    const claimUri = block.claim_uri ?? block.claim_endpoint ?? undefined;
    const revocationUri = block.revocation_uri ?? revocationEndpoint;
    const grants = a.grant_types_supported.slice(0, 50);
    // AUTHMD-VERSIONS.md §7: a grant ending `:claim` or `:claim_token` marks the polling line.
    const claimGrant = grants.find((g) => g.length <= 200 && /:claim(?:_token)?$/.test(g));
    const types = block.identity_types_supported;
    // v0.2/v0.3 keep v0.1's emailed code at `/agent/identity`: spoken as v0.1.
    const emailedCode =
      (types.includes('verified_email') ||
        (block.identity_assertion?.assertion_types_supported ?? []).includes('verified_email')) &&
      !types.includes('service_auth');
    const line: AuthMdLine =
      block.register_uri || !block.identity_endpoint ? '0.1' : claimGrant ? '0.6' : emailedCode ? '0.1' : '0.7';
    agentAuth = {
      registerUri,
      claimUris,
      types: block.identity_types_supported,
      assertionTypes: [
        ...(block.identity_assertion?.assertion_types_supported ?? []),
        ...(block.verified_email ? ['verified_email'] : []),
      ],
      claimMethods: block.user_claimed?.claim_methods_supported ?? [],
      ...(claimUri ? { claimUri } : {}),
      ...(revocationUri ? { revocationUri } : {}),
      ...(skill ? { skill } : {}),
      line,
      jwtBearer: grants.includes(jwtBearerGrant),
      ...(line !== '0.1' && tokenEndpoint ? { tokenEndpoint } : {}),
      ...(line !== '0.1' && revocationEndpoint ? { oauthRevocationEndpoint: revocationEndpoint } : {}),
      ...(line === '0.6' && claimGrant ? { claimGrant } : {}),
    };
  }
  return {
    issuer,
    agentAuthWithoutRegistration: Boolean(block && !registerUri),
    ...(tokenEndpoint ? { tokenEndpoint } : {}),
    ...(revocationEndpoint ? { revocationEndpoint } : {}),
    ...(device ? { device } : {}),
    ...(ciba.kind === 'found' ? { ciba: ciba.ciba } : ciba.kind === 'unusable' ? { cibaUnusable: ciba.why } : {}),
    ...(agentAuth ? { agentAuth } : {}),
  };
}
