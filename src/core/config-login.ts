import { z } from 'zod';
import type { KeyObject } from 'node:crypto';
import { cibaEnv, type CibaClient } from './config-ciba.js';
import type { CibaLoginHint } from './config-ciba-hints.js';
import { idJagEnv, idJagIssuerFrom, type IdJagIssuerConfig } from './config-id-jag.js';
import { positiveMs } from './config-fields.js';
import { ConfigError, InternalError } from './errors.js';
import { namesByRank, protocolNamePattern, type ProtocolName, type RankedProtocol } from './login-protocol.js';
import { parseOriginGlob } from './origin-glob.js';

/**
 * Login-protocol variables of the configuration schema (merged into the one schema in
 * config.ts): which protocols the bridge speaks, how long discovery results are reused, when
 * credentials are refreshed, and the OAuth client ids the device flow presents.
 */
/**
 * `HANDOFF_PROTOCOLS`: names, checked here only for their shape. Which names exist is known
 * from the registered protocol modules (src/main.ts), so `enabledProtocols` checks the list
 * against them when the bridge starts.
 */
const protocolList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(protocolNamePattern, 'must list protocol names separated by commas, such as agent-sessions,device'),
      )
      .min(1, 'must name at least one protocol'),
  )
  .transform((list) => [...new Set(list)]);

const nonNegativeMs = z.coerce
  .number({ error: 'must be a whole number of milliseconds (0 or more)' })
  .int('must be a whole number of milliseconds (0 or more)')
  .min(0, 'must be a whole number of milliseconds (0 or more)');

/** `https://code.example.com=Iv1.abc,https://auth.example.com=handoff`: a client id per service origin. */
const clientIdMap = z.string().transform((v, ctx) => {
  const out: Record<string, string> = {};
  for (const pair of v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    const origin = at > 0 ? pair.slice(0, at).trim() : '';
    const id = at > 0 ? pair.slice(at + 1).trim() : '';
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !id || !/^https?:$/.test(parsed.protocol)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be comma-separated origin=client_id pairs, e.g. https://code.example.com=Iv1.0123456789abcdef',
      });
      return z.NEVER;
    }
    out[parsed.origin] = id;
  }
  return out;
});

/** `https://notes.example.com,https://*.corp.example`: services allowed an approver's directory email. */
const originGlobList = z.string().transform((v, ctx) => {
  const globs = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = globs.find((g) => parseOriginGlob(g) === undefined);
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be comma-separated origins such as https://notes.example.com or https://*.example.com ("${bad.slice(0, 80)}" is not one)`,
    });
    return z.NEVER;
  }
  return globs;
});

export const loginEnv = {
  HANDOFF_PROTOCOLS: protocolList.optional(),
  HANDOFF_DISCOVERY_CACHE_MS: nonNegativeMs.default(10 * 60_000),
  HANDOFF_REFRESH_BEFORE_MS: positiveMs.default(5 * 60_000),
  HANDOFF_DEVICE_CLIENT_ID: z.string().trim().min(1).max(200).default('handoff-bridge'),
  HANDOFF_DEVICE_CLIENT_IDS: clientIdMap.optional(),
  HANDOFF_APPROVER_EMAIL_SERVICES: originGlobList.optional(),
  ...cibaEnv,
  ...idJagEnv,
  HANDOFF_ID_JAG_SERVICES: originGlobList.optional(),
};

export interface LoginConfig {
  /**
   * The protocols `HANDOFF_PROTOCOLS` lists, as listed; undefined: every registered one. Not yet
   * checked against the registered protocols: `enabledProtocols` does that.
   */
  readonly protocols: readonly ProtocolName[] | undefined;
  /** How long a service's discovered metadata is reused, ms (10 min; 0 = not cached). */
  readonly discoveryCacheMs: number;
  /** Refresh credentials this long before they expire, ms (5 min; at most a quarter of their life). */
  readonly refreshBeforeMs: number;
  /** OAuth client id the device flow presents (`handoff-bridge`). */
  readonly deviceClientId: string;
  /** Per service origin, a client id that overrides `deviceClientId`. */
  readonly deviceClientIds: Readonly<Record<string, string>>;
  /**
   * Origin globs of services that may be sent an approver's email found in the platform
   * directory (a workspace's people, a profile). Default none: only an email the request itself
   * named goes to a service.
   */
  readonly approverEmailServices: readonly string[];
  /** OpenID CIBA client credentials per authorization-server origin (`HANDOFF_CIBA_CLIENTS`; src/core/config-ciba.ts). */
  readonly cibaClients: Readonly<Record<string, CibaClient>>;
  /** How each CIBA authorization server (by origin) wants the approver named (`HANDOFF_CIBA_LOGIN_HINTS`); default email. */
  readonly cibaLoginHints: Readonly<Record<string, CibaLoginHint>>;
  /** The bridge as an ID-JAG issuer for auth.md's `identity_assertion` (src/core/config-id-jag.ts); absent: never sent. */
  readonly idJag?: IdJagIssuerConfig;
}

export function loginConfigFrom(e: {
  HANDOFF_PROTOCOLS?: ProtocolName[] | undefined;
  HANDOFF_DISCOVERY_CACHE_MS: number;
  HANDOFF_REFRESH_BEFORE_MS: number;
  HANDOFF_DEVICE_CLIENT_ID: string;
  HANDOFF_DEVICE_CLIENT_IDS?: Record<string, string> | undefined;
  HANDOFF_APPROVER_EMAIL_SERVICES?: string[] | undefined;
  HANDOFF_CIBA_CLIENTS?: Record<string, CibaClient> | undefined;
  HANDOFF_CIBA_LOGIN_HINTS?: Record<string, CibaLoginHint> | undefined;
  HANDOFF_ID_JAG_ISSUER?: string | undefined;
  HANDOFF_ID_JAG_KEY?: KeyObject | undefined;
  HANDOFF_ID_JAG_SERVICES?: string[] | undefined;
}): LoginConfig {
  const idJag = idJagIssuerFrom(e);
  if (idJag && 'missing' in idJag) {
    throw new ConfigError(
      idJag.missing,
      `Invalid configuration:\n  - ${idJag.missing} is required with the other HANDOFF_ID_JAG_* variables (the bridge signs ID-JAGs only with an issuer, a key and the services that may receive them)`,
    );
  }
  return {
    protocols: e.HANDOFF_PROTOCOLS,
    discoveryCacheMs: e.HANDOFF_DISCOVERY_CACHE_MS,
    refreshBeforeMs: e.HANDOFF_REFRESH_BEFORE_MS,
    deviceClientId: e.HANDOFF_DEVICE_CLIENT_ID,
    deviceClientIds: e.HANDOFF_DEVICE_CLIENT_IDS ?? {},
    approverEmailServices: e.HANDOFF_APPROVER_EMAIL_SERVICES ?? [],
    cibaClients: e.HANDOFF_CIBA_CLIENTS ?? {},
    cibaLoginHints: e.HANDOFF_CIBA_LOGIN_HINTS ?? {},
    ...(idJag ? { idJag } : {}),
  };
}

/**
 * The protocols this bridge speaks: those `HANDOFF_PROTOCOLS` lists (default: every registered
 * one), most preferred first (by each protocol's rank; the order of the list does not matter).
 * A name no registered protocol has is a ConfigError naming the ones there are.
 */
export function enabledProtocols(
  listed: readonly ProtocolName[] | undefined,
  registered: readonly RankedProtocol[],
): ProtocolName[] {
  const known = namesByRank(registered);
  // The registry itself is code: a bad or repeated name there is a bug, not a setting.
  const bad = known.find((name, i) => !protocolNamePattern.test(name) || known.indexOf(name) !== i);
  if (bad !== undefined) {
    throw new InternalError(
      `Two registered login protocols share the name "${bad.slice(0, 40)}", or it is not a protocol name (lower-case letters, digits, -).`,
    );
  }
  const unknown = (listed ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      'HANDOFF_PROTOCOLS',
      `Invalid configuration:\n  - HANDOFF_PROTOCOLS must list protocols from: ${known.join(', ')} (${unknown
        .map((name) => `"${name}"`)
        .join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not one)`,
    );
  }
  return listed ? known.filter((name) => listed.includes(name)) : known;
}
