import { z } from 'zod';
import { globMatchAny } from './glob.js';

/**
 * What the operator allows one agent: which services (origin globs), which threads
 * (thread-ref globs), which approvers, how many open handoffs and how many new ones a minute.
 * An absent list allows everything of its kind; absent limits take the bridge-wide defaults
 * (`HANDOFF_AGENT_MAX_OPEN_HANDOFFS`, `HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE`). Pure.
 */

/** Agent ids: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const agentIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const agentIdSchema = z
  .string()
  .regex(
    agentIdPattern,
    'must be 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/**
 * `https://api.example.com`, `https://*.example.com`, `http://127.0.0.1:*`, `*`: a scheme, `://`
 * and a host (and port) in which `*` stands for any run of characters. Nothing after the host:
 * policy is per origin. Lower-cased, since origins are.
 */
const originGlob = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .transform((v) => v.toLowerCase().replace(/\/$/, ''))
  .refine((v) => v === '*' || /^(?:https?|\*):\/\/[a-z0-9.*\-[\]:]+$/.test(v), {
    message:
      'must be an origin such as https://api.example.com or https://*.example.com (no path; international names in punycode, xn--…)',
  })
  .refine((v) => !/^https:\/\/[^/]*:443$/.test(v) && !/^http:\/\/[^/]*:80$/.test(v), {
    message: 'must leave out the default port (:443 for https, :80 for http), as origins do',
  });

/**
 * `local:*`, `<platform>:<glob>` (e.g. `local:demo-*`), `*`: matched against the canonical thread
 * ref (what the platform's adapter makes of the requested one). The prefix is lower-cased;
 * whether it names a registered platform is checked where the platforms are known.
 */
const threadGlob = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine((v) => v === '*' || /^[A-Za-z][A-Za-z0-9-]{0,31}:\S+$/.test(v), {
    message: "must start with a platform's prefix such as local: (e.g. local:demo-*), or be *",
  })
  .transform((v) => v.replace(/^[A-Za-z][A-Za-z0-9-]{0,31}:/, (prefix) => prefix.toLowerCase()));

const limit = (max: number) => z.number().int().min(1).max(max);

/** One agent's policy fields, as `POST /v1/agents` and the agents file take them. */
export const agentPolicyFields = {
  services: z.array(originGlob).max(100).optional(),
  threads: z.array(threadGlob).max(100).optional(),
  approvers: z.array(z.string().trim().min(1).max(256)).max(100).optional(),
  maxOpenHandoffs: limit(100_000).optional(),
  maxHandoffsPerMinute: limit(100_000).optional(),
};

export const agentPolicySchema = z.strictObject(agentPolicyFields);
export type AgentPolicy = z.output<typeof agentPolicySchema>;

/** Bridge-wide limits for agents whose policy names none. */
export interface AgentLimits {
  /** Open (unfinished) handoffs one agent may have at once (20). */
  readonly maxOpenHandoffs: number;
  /** New handoffs one agent may create in any 60 s (60). */
  readonly maxHandoffsPerMinute: number;
}

export function effectiveLimits(policy: AgentPolicy, defaults: AgentLimits): AgentLimits {
  return {
    maxOpenHandoffs: policy.maxOpenHandoffs ?? defaults.maxOpenHandoffs,
    maxHandoffsPerMinute: policy.maxHandoffsPerMinute ?? defaults.maxHandoffsPerMinute,
  };
}

/** What a new handoff asks for, already canonical: the service's origin, the thread's ref. */
export interface PolicyQuestion {
  /**
   * `URL.origin` of the service (scheme, lower-case host, port unless default). Absent for
   * approvals, which call no service (the services list does not govern them).
   */
  readonly serviceOrigin?: string;
  /** The canonical thread ref. */
  readonly thread: string;
  readonly approvers: readonly string[];
  /** The thread's platform compares refs case-insensitively (its adapter's `refsIgnoreCase`). */
  readonly threadIgnoresCase?: boolean;
}

export type PolicyRefusal =
  | { readonly code: 'service_not_allowed'; readonly message: string }
  | { readonly code: 'thread_not_allowed'; readonly message: string }
  | { readonly code: 'approver_not_allowed'; readonly message: string };

const approverKey = (value: string) => value.trim().replace(/^@/, '').toLowerCase();

/** The first rule of the policy the question breaks, or undefined when it is allowed. */
export function checkPolicy(agentId: string, policy: AgentPolicy, question: PolicyQuestion): PolicyRefusal | undefined {
  if (
    policy.services &&
    question.serviceOrigin !== undefined &&
    !globMatchAny(policy.services, question.serviceOrigin.toLowerCase())
  ) {
    return {
      code: 'service_not_allowed',
      message: `Agent ${agentId} may not log in to ${question.serviceOrigin}; the operator allows it: ${policy.services.join(', ') || 'no service'}.`,
    };
  }
  const threadKey = (value: string) => (question.threadIgnoresCase ? value.toLowerCase() : value);
  if (policy.threads && !globMatchAny(policy.threads.map(threadKey), threadKey(question.thread))) {
    return {
      code: 'thread_not_allowed',
      message: `Agent ${agentId} may not ask in ${question.thread}; the operator allows it: ${policy.threads.join(', ') || 'no thread'}.`,
    };
  }
  if (policy.approvers) {
    const allowed = new Set(policy.approvers.map(approverKey));
    if (question.approvers.length === 0) {
      return {
        code: 'approver_not_allowed',
        message: `Agent ${agentId} must name its approvers, from: ${policy.approvers.join(', ')}.`,
      };
    }
    const stranger = question.approvers.find((a) => !allowed.has(approverKey(a)));
    if (stranger !== undefined) {
      return {
        code: 'approver_not_allowed',
        message: `Agent ${agentId} may not name ${stranger.slice(0, 100)} as an approver; it may name: ${policy.approvers.join(', ')}.`,
      };
    }
  }
  return undefined;
}
