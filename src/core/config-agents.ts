import { z } from 'zod';
import type { AgentLimits } from './agent-policy.js';
import { count, nonNegativeMs, optionalText } from './config-fields.js';

/**
 * Agent variables of the configuration schema (merged into the one schema in config.ts): the
 * agents file, the bridge-wide limits for agents, how long credentials live, and where audit
 * entries go besides Redis. Durations are milliseconds like every other `*_MS` variable.
 */
const day = 24 * 3_600_000;

/** A name someone may reasonably try, answered with the one that exists. */
const renamed = (instead: string) =>
  z.undefined({ error: `is not a setting: use ${instead} (milliseconds)` }).optional();

/** `stdout`, `file:/var/log/handoff/audit.jsonl`, or `off`. */
const auditSink = z
  .string()
  .trim()
  .transform((v, ctx): AuditSinkConfig => {
    if (v === 'stdout') return { kind: 'stdout' };
    if (v === 'off' || v === 'none') return { kind: 'off' };
    if (v.startsWith('file:') && v.length > 5) return { kind: 'file', path: v.slice(5) };
    ctx.addIssue({
      code: 'custom',
      message: 'must be stdout, file:<path> (e.g. file:/var/log/handoff/audit.jsonl) or off',
    });
    return z.NEVER;
  });

export const agentsEnv = {
  HANDOFF_AGENTS_FILE: optionalText,
  HANDOFF_AGENT_MAX_OPEN_HANDOFFS: count(100_000).default(20),
  HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE: count(100_000).default(60),
  HANDOFF_CREDENTIAL_MAX_AGE_MS: nonNegativeMs.default(30 * day),
  HANDOFF_CREDENTIAL_IDLE_MS: nonNegativeMs.default(7 * day),
  HANDOFF_CREDENTIAL_MAX_AGE: renamed('HANDOFF_CREDENTIAL_MAX_AGE_MS'),
  HANDOFF_CREDENTIAL_IDLE: renamed('HANDOFF_CREDENTIAL_IDLE_MS'),
  HANDOFF_AUDIT_SINK: auditSink.optional(),
};

/** Where audit entries are written besides the Redis stream. */
export type AuditSinkConfig =
  /** One JSON line per entry on standard output (logs go to standard error). */
  | { readonly kind: 'stdout' }
  /** Appended to this file, created with mode 0600. */
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'off' };

export interface AgentsConfig {
  /** JSON or YAML file declaring agents (read once at start); absent: agents come from the API only. */
  readonly file: string | undefined;
  /** Limits for agents whose policy names none (20 open, 60 a minute). */
  readonly limits: AgentLimits;
  /** A credential is revoked and deleted this long after it was issued, ms (30 days; 0 = never). */
  readonly credentialMaxAgeMs: number;
  /** A credential nobody retrieved for this long is revoked and deleted, ms (7 days; 0 = never). */
  readonly credentialIdleMs: number;
  /** Default: `stdout` in production, `off` otherwise. */
  readonly auditSink: AuditSinkConfig;
}

export function agentsConfigFrom(
  e: {
    HANDOFF_AGENTS_FILE?: string | undefined;
    HANDOFF_AGENT_MAX_OPEN_HANDOFFS: number;
    HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE: number;
    HANDOFF_CREDENTIAL_MAX_AGE_MS: number;
    HANDOFF_CREDENTIAL_IDLE_MS: number;
    HANDOFF_AUDIT_SINK?: AuditSinkConfig | undefined;
  },
  production: boolean,
): AgentsConfig {
  return {
    file: e.HANDOFF_AGENTS_FILE,
    limits: {
      maxOpenHandoffs: e.HANDOFF_AGENT_MAX_OPEN_HANDOFFS,
      maxHandoffsPerMinute: e.HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE,
    },
    credentialMaxAgeMs: e.HANDOFF_CREDENTIAL_MAX_AGE_MS,
    credentialIdleMs: e.HANDOFF_CREDENTIAL_IDLE_MS,
    auditSink: e.HANDOFF_AUDIT_SINK ?? (production ? { kind: 'stdout' } : { kind: 'off' }),
  };
}
