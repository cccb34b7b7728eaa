import { z } from 'zod';
import { BadInputError, UpstreamError } from '../core/errors.js';
import type { ApprovedBy } from '../core/login-protocol.js';
import { approvedByFrom } from './approved-by.js';
import type { AgentAuthMetadata } from './discovered-service.js';
import { type ServiceResponse } from './service-http.js';
import { malformed, rejected } from './service-answer-errors.js';

/**
 * auth.md registration (docs/protocols.md, "auth.md"): which registration type to use for a login, the
 * body to send (strict), and reading the answer (lenient: field names and time formats vary
 * between servers).
 */
export type RegistrationPlan =
  /** `identity_assertion` + `verified_email`: the service emails the approver a code. */
  | 'email'
  /** `user_claimed`: a browser claim URL; the page shows a finish code. */
  | 'user_claimed'
  /** `anonymous` + claim: a low-scope key at once; claimed by email (when known) or in the browser. */
  | 'anonymous';

/**
 * With the approver's email, the verified-email flow binds the login to that person's inbox:
 * prefer it. Otherwise a browser claim, and anonymous + claim last.
 */
export function choosePlan(agentAuth: AgentAuthMetadata, approverEmail: string | undefined): RegistrationPlan {
  const emailFlow =
    (agentAuth.types.includes('identity_assertion') && agentAuth.assertionTypes.includes('verified_email')) ||
    agentAuth.types.includes('verified_email');
  if (emailFlow && approverEmail) return 'email';
  if (agentAuth.types.includes('user_claimed')) return 'user_claimed';
  if (agentAuth.types.includes('anonymous')) return 'anonymous';
  if (emailFlow) {
    throw new BadInputError(
      'This service logs agents in by emailing the approver: pass approverEmail. (An approver’s email from the platform directory is sent only to services the operator lists in HANDOFF_APPROVER_EMAIL_SERVICES.)',
      { code: 'approver_email_required', details: { field: 'approverEmail' } },
    );
  }
  throw new UpstreamError(
    `The service's auth.md registration types include none the bridge can use (it knows anonymous, identity_assertion with verified_email, user_claimed).`,
    {
      code: 'no_supported_login',
      upstreamStatus: 0,
      retry: 'never',
    },
  );
}

export function registrationBody(
  plan: RegistrationPlan,
  input: { email?: string; scopes: readonly string[]; clientName: string; claimMethod: string },
): Record<string, unknown> {
  switch (plan) {
    case 'email':
      return {
        type: 'identity_assertion',
        assertion_type: 'verified_email',
        assertion: input.email,
        requested_credential_type: 'access_token',
      };
    case 'user_claimed':
      return {
        type: 'user_claimed',
        claim_method: input.claimMethod,
        requested_credential_type: 'access_token',
        ...(input.scopes.length ? { requested_scopes: [...input.scopes] } : {}),
        client_name: input.clientName,
      };
    case 'anonymous':
      return { type: 'anonymous', requested_credential_type: 'api_key' };
  }
}

/** ISO date, epoch seconds or epoch ms: servers use all three. */
export const flexibleTime = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v < 100_000_000_000 ? v * 1000 : v;
  const parsed = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'not a time' });
    return z.NEVER;
  }
  return /^\d+$/.test(v) && parsed < 100_000_000_000 ? parsed * 1000 : parsed;
});

/** A link the service hands over; judged where it is used (the engine for links a person opens, discovered-url for endpoints). */
const url = z.string().min(1).max(4096);
const strings = z.array(z.string()).nullish();

const registrationAnswer = z.looseObject({
  registration_id: z.string().nullish(),
  claim_token: z.string().min(1).nullish(),
  claim_token_expires: flexibleTime.nullish(),
  // The browser link: auth.md examples say claim_url; some servers use OAuth-ish names.
  claim_url: url.nullish(),
  verification_uri_complete: url.nullish(),
  verification_uri: url.nullish(),
  url: url.nullish(),
  credential: z.string().min(1).nullish(),
  api_key: z.string().min(1).nullish(),
  credential_expires: flexibleTime.nullish(),
  scopes: strings,
  post_claim_scopes: strings,
});

export interface Registered {
  readonly registrationId?: string;
  readonly claimToken: string;
  readonly claimExpiresAt?: number;
  readonly claimUrl?: string;
  /** The anonymous flow's usable low-scope key. */
  readonly key?: { readonly value: string; readonly expiresAt?: number; readonly scopes: readonly string[] };
  readonly postClaimScopes?: readonly string[];
}

export function readRegistration(res: ServiceResponse): Registered {
  if (res.status < 200 || res.status >= 300) throw rejected(res, 'registration', 'registration_rejected');
  const parsed = registrationAnswer.safeParse(res.body);
  if (!parsed.success || !parsed.data.claim_token) throw malformed(res, 'registration');
  const b = parsed.data;
  const keyValue = b.credential ?? b.api_key ?? undefined;
  const claimUrl = b.claim_url ?? b.verification_uri_complete ?? b.verification_uri ?? b.url ?? undefined;
  return {
    claimToken: b.claim_token!,
    ...(b.registration_id ? { registrationId: b.registration_id } : {}),
    ...(b.claim_token_expires != null ? { claimExpiresAt: b.claim_token_expires } : {}),
    ...(claimUrl ? { claimUrl } : {}),
    ...(keyValue
      ? {
          key: {
            value: keyValue,
            scopes: b.scopes ?? [],
            ...(b.credential_expires != null ? { expiresAt: b.credential_expires } : {}),
          },
        }
      : {}),
    ...(b.post_claim_scopes ? { postClaimScopes: b.post_claim_scopes } : {}),
  };
}

const claimedAnswer = z.looseObject({
  status: z.string().nullish(),
  // Who claimed, where a server says (field names vary; all optional, read leniently).
  email: z.unknown().optional(),
  approved_email: z.unknown().optional(),
  account: z.looseObject({ id: z.unknown().optional(), email: z.unknown().optional() }).nullish().catch(undefined),
  credential: z.string().min(1).nullish(),
  access_token: z.string().min(1).nullish(),
  api_key: z.string().min(1).nullish(),
  credential_expires: flexibleTime.nullish(),
  expires_in: z.number().positive().nullish(),
  scopes: strings,
  scope: z.string().nullish(),
});

/** Who claimed, when a successful `claim/complete` answer says (`approved_email`, `email`, `account`). */
export function readClaimant(res: ServiceResponse): ApprovedBy | undefined {
  const parsed = claimedAnswer.safeParse(res.body);
  if (!parsed.success) return undefined;
  const b = parsed.data;
  return approvedByFrom({ email: b.approved_email ?? b.account?.email ?? b.email, subject: b.account?.id }, 'claim');
}

/** The credential in a successful `claim/complete` answer, if it carries one. */
export function readClaimed(
  res: ServiceResponse,
  now: number,
): { value: string; expiresAt?: number; scopes?: readonly string[] } | undefined {
  const parsed = claimedAnswer.safeParse(res.body);
  if (!parsed.success) throw malformed(res, 'claim completion');
  const b = parsed.data;
  const value = b.credential ?? b.access_token ?? b.api_key ?? undefined;
  if (!value) return undefined;
  const expiresAt = b.credential_expires ?? (b.expires_in != null ? now + b.expires_in * 1000 : undefined);
  const scopes = b.scopes ?? (b.scope ? b.scope.split(' ').filter(Boolean) : undefined);
  return { value, ...(expiresAt != null ? { expiresAt } : {}), ...(scopes ? { scopes } : {}) };
}
