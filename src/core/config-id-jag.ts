import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * The bridge as an ID-JAG issuer (draft-ietf-oauth-identity-assertion-authz-grant): for auth.md
 * services that register agents with `identity_assertion`, the bridge signs an Identity
 * Assertion JWT Authorization Grant for the approver itself. Three variables, all or none:
 *
 * - `HANDOFF_ID_JAG_ISSUER`: the `iss` the services trust (an https URL; http on loopback for tests);
 * - `HANDOFF_ID_JAG_KEY` (or `HANDOFF_ID_JAG_KEY_FILE`, a secret file): the PEM private key it
 *   signs with (EC P-256 → ES256, RSA ≥ 2048 bits → RS256, Ed25519 → EdDSA);
 * - `HANDOFF_ID_JAG_SERVICES`: origin globs of the services that may be sent one (config-login.ts).
 *
 * Messages name the variable, never the key.
 */
export const idJagIssuerVariable = 'HANDOFF_ID_JAG_ISSUER';
export const idJagKeyVariable = 'HANDOFF_ID_JAG_KEY';
export const idJagServicesVariable = 'HANDOFF_ID_JAG_SERVICES';

export interface IdJagIssuerConfig {
  /** `iss`, without a trailing slash. */
  readonly issuer: string;
  /** The signing key, checked to be one the bridge signs with when the configuration was read. */
  readonly key: KeyObject;
  /** Origin globs of services that may receive an ID-JAG. */
  readonly services: readonly string[];
}

/** The one key kind check, shared by the config (refuse early) and the signer. */
export function jwtAlgorithmOf(key: KeyObject): 'ES256' | 'RS256' | 'EdDSA' | undefined {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return undefined;
}

const issuerField = z.string().transform((v, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(v.trim());
  } catch {
    url = undefined;
  }
  const loopback = url && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.search || url.hash) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must be the https URL services know the bridge as an ID-JAG issuer by, e.g. https://handoff.example.com',
    });
    return z.NEVER;
  }
  return url.toString().replace(/\/+$/, '');
});

const keyField = z.string().transform((v, ctx) => {
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(v);
  } catch {
    key = undefined;
  }
  if (!key || !jwtAlgorithmOf(key)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must hold a PEM private key: EC P-256, RSA of 2048 bits or more, or Ed25519 (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)',
    });
    return z.NEVER;
  }
  return key;
});

/** The variables this fragment adds to the one schema (merged through config-login.ts). */
export const idJagEnv = {
  [idJagIssuerVariable]: issuerField.optional(),
  [idJagKeyVariable]: keyField.optional(),
} as const;

/** The issuer, or undefined when none is configured; a half-configured issuer names what is missing. */
export function idJagIssuerFrom(e: {
  HANDOFF_ID_JAG_ISSUER?: string | undefined;
  HANDOFF_ID_JAG_KEY?: KeyObject | undefined;
  HANDOFF_ID_JAG_SERVICES?: string[] | undefined;
}): IdJagIssuerConfig | { missing: string } | undefined {
  const set = [e.HANDOFF_ID_JAG_ISSUER, e.HANDOFF_ID_JAG_KEY, e.HANDOFF_ID_JAG_SERVICES].filter((v) => v !== undefined);
  if (set.length === 0) return undefined;
  if (!e.HANDOFF_ID_JAG_ISSUER) return { missing: idJagIssuerVariable };
  if (!e.HANDOFF_ID_JAG_KEY) return { missing: idJagKeyVariable };
  if (!e.HANDOFF_ID_JAG_SERVICES?.length) return { missing: idJagServicesVariable };
  return { issuer: e.HANDOFF_ID_JAG_ISSUER, key: e.HANDOFF_ID_JAG_KEY, services: e.HANDOFF_ID_JAG_SERVICES };
}
