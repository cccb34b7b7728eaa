import { z } from 'zod';
import type { Caller } from '../core/caller.js';
import { BadInputError } from '../core/errors.js';
import { protocolNamePattern } from '../core/login-protocol.js';
import { illFormedPath } from '../core/well-formed.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { defaultReminderMax, maxEscalationSteps, maxReminders, minReminderMs } from '../core/waiting.js';
import type { ApprovalRequestInput, ExtendRequestInput, HandoffRequestInput } from '../core/wire.js';

/**
 * What an agent asks for, over HTTP or through requireLogin(). One schema for both. Limits
 * keep a single request from costing much: strings are short, lists are short.
 */
const shortText = (max: number) => z.string().trim().min(1).max(max);

const reminderMs = z
  .number()
  .int()
  .min(minReminderMs, `must be at least ${minReminderMs} (a minute)`)
  .max(7 * 24 * 3_600_000);
/** Reminders to the approvers while the handoff waits (issue #14); `max: 0` asks for none. */
/** Who else is asked if nobody answers (issue #14): at most 3 steps. */
const escalateSchema = z
  .array(
    z.strictObject({
      afterMs: reminderMs,
      approvers: z.array(shortText(256)).min(1).max(20),
      thread: shortText(512).optional(),
    }),
  )
  .min(1)
  .max(maxEscalationSteps);
const remindSchema = z.strictObject({
  afterMs: reminderMs,
  everyMs: reminderMs.optional(),
  max: z.number().int().min(0).max(maxReminders).default(defaultReminderMax),
});

export const handoffRequestSchema = z.strictObject({
  /** `login` is the default; `approval` requests are read by `approvalRequestSchema`. */
  kind: z.literal('login').optional(),
  service: z.string().trim().min(1).max(2048),
  /**
   * `auto` or a protocol's name. Only the shape is checked here: which names this bridge speaks
   * comes from the registered protocols, and the engine refuses any other with
   * `unsupported_protocol`, naming them.
   */
  protocol: z
    .string()
    .trim()
    .regex(protocolNamePattern, 'must be "auto" or the name of a login protocol, such as device')
    .optional(),
  thread: shortText(512),
  approvers: z.array(shortText(256)).max(50).default([]),
  approverEmail: z.email().max(320).optional(),
  /** With an agent key the id comes from the key (naming another is refused); the admin token must name one. */
  agent: z.strictObject({ id: shortText(200).optional(), correlationId: shortText(200).optional() }).optional(),
  scopes: z.array(shortText(200)).max(100).default([]),
  expiresInMs: z.number().int().positive().optional(),
  idempotencyKey: shortText(200).optional(),
  label: shortText(200).optional(),
  reuse: z.enum(['agent', 'thread', 'never']).default('never'),
  remind: remindSchema.optional(),
  escalate: escalateSchema.optional(),
});

/** The schema takes exactly the wire's request (src/core/wire.ts): change one, and this fails to compile. */
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type RequestMatchesWire = Holds<SameType<z.input<typeof handoffRequestSchema>, HandoffRequestInput>>;
export type ParsedHandoffRequest = Omit<z.output<typeof handoffRequestSchema>, 'kind'>;
/** A value shown as a field of an approval: short text, a number or a yes/no. */
const detailValue = z.union([z.string().max(500), z.number().finite(), z.boolean()]);

/**
 * An approval request (issue #13): the agent asks whether it may do something. Everything
 * in `action` is the agent's words, shown escaped; the link must be https (its host is shown).
 */
export const approvalRequestSchema = z.strictObject({
  kind: z.literal('approval'),
  thread: shortText(512),
  agent: z.strictObject({ id: shortText(200).optional(), correlationId: shortText(200).optional() }).optional(),
  action: z.strictObject({
    title: shortText(200),
    description: z.string().trim().min(1).max(4_000).optional(),
    details: z
      .record(z.string().trim().min(1).max(60), detailValue)
      .refine((d) => Object.keys(d).length <= 20, { message: 'may have at most 20 fields' })
      .optional(),
    risk: z.enum(['low', 'medium', 'high']).optional(),
    link: z
      .string()
      .trim()
      .max(2_000)
      .refine((v) => httpsLink(v) !== undefined, { message: 'must be an https URL without credentials' })
      .optional(),
  }),
  approvers: z.array(shortText(256)).max(50).default([]),
  quorum: z.number().int().min(1).max(20).default(1),
  requestedBy: shortText(256).optional(),
  expiresInMs: z.number().int().positive().optional(),
  onTimeout: z.enum(['expire', 'deny']).default('expire'),
  idempotencyKey: shortText(200).optional(),
  remind: remindSchema.optional(),
  escalate: escalateSchema.optional(),
});

/** `POST /v1/handoffs/:id/extend` (issue #14). */
export const extendRequestSchema = z.strictObject({ expiresInMs: z.number().int().positive() });
export type ExtendRequestMatchesWire = Holds<SameType<z.input<typeof extendRequestSchema>, ExtendRequestInput>>;

/** Validates an extension's body; the error names the offending field. */
export function parseExtendRequest(body: unknown): ExtendRequestInput {
  checkBody(body);
  const parsed = extendRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidField(parsed.error.issues[0]!);
  return parsed.data;
}

/** The link as stored and shown: https only, no credentials, in its parsed form. */
export function httpsLink(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' || url.username || url.password || !url.host) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

export type ParsedApprovalRequest = z.output<typeof approvalRequestSchema>;
export type ApprovalRequestMatchesWire = Holds<SameType<z.input<typeof approvalRequestSchema>, ApprovalRequestInput>>;
/** An approval request whose agent is known. */
export type ApprovalRequest = Omit<ParsedApprovalRequest, 'agent'> & {
  readonly agent: { readonly id: string; readonly correlationId?: string };
};

/** A request whose agent is known: what the engine creates handoffs from. */
export type HandoffRequest = Omit<ParsedHandoffRequest, 'agent'> & {
  readonly agent: { readonly id: string; readonly correlationId?: string };
};

/**
 * The request's agent, from the caller: an agent key's own id (the body may repeat it, not
 * name another), or for the admin token the id the body names.
 */
export function resolveAgent<R extends { readonly agent?: { id?: string; correlationId?: string } | undefined }>(
  request: R,
  caller: Caller,
):
  | (Omit<R, 'agent'> & { readonly agent: { readonly id: string; readonly correlationId?: string } })
  | { readonly mismatch: string } {
  const named = request.agent?.id;
  const correlation = request.agent?.correlationId ? { correlationId: request.agent.correlationId } : {};
  if (caller.kind === 'agent') {
    if (named !== undefined && named !== caller.agentId) return { mismatch: named };
    return { ...request, agent: { id: caller.agentId, ...correlation } };
  }
  if (named === undefined) {
    throw new BadInputError(
      'Field "agent.id" is required with the admin token (an agent key names its agent by itself).',
      {
        code: 'invalid_request',
        details: { field: 'agent.id' },
      },
    );
  }
  return { ...request, agent: { id: named, ...correlation } };
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || 'body';
}

/** True when the body asks for an approval rather than a login. */
export const isApprovalBody = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'approval';

/** Validates an approval request body (`kind: "approval"`); the error names the first offending field. */
export function parseApprovalRequest(body: unknown): ParsedApprovalRequest {
  checkBody(body);
  const parsed = approvalRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidField(parsed.error.issues[0]!);
  const link = parsed.data.action.link;
  return link === undefined
    ? parsed.data
    : { ...parsed.data, action: { ...parsed.data.action, link: httpsLink(link)! } };
}

/** Validates a request body; the error names the first offending field. */
export function parseHandoffRequest(body: unknown): ParsedHandoffRequest {
  checkBody(body);
  const parsed = handoffRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidField(parsed.error.issues[0]!);
  const { kind: _login, ...request } = parsed.data;
  return request;
}

function invalidField(issue: z.core.$ZodIssue): BadInputError {
  const field =
    issue.code === 'unrecognized_keys' ? fieldName([...issue.path, issue.keys[0] ?? '']) : fieldName(issue.path);
  const what =
    issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message.replace(/^Invalid input: /, '');
  return new BadInputError(`Field "${field}" ${what}.`, { code: 'invalid_request', details: { field } });
}

/** What every request body is checked for before its schema. */
function checkBody(body: unknown): asserts body is object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('The request body must be a JSON object.', {
      code: 'invalid_request',
      details: { field: 'body' },
    });
  }
  // Before the schema: a lone surrogate anywhere (known field or not) would poison the record.
  const illFormed = illFormedPath(body);
  if (illFormed !== undefined) {
    throw new BadInputError(
      `Field "${illFormed}" is not well-formed Unicode (it holds a lone UTF-16 surrogate); send valid text.`,
      {
        code: 'invalid_unicode',
        details: { field: illFormed },
      },
    );
  }
  // Before anything else, so no form of it gets further than this (nothing is written).
  if (Object.hasOwn(body, 'parentJob')) {
    throw new BadInputError(
      "The bridge no longer attaches handoffs to agents' jobs; use requireLogin() from the client, which resumes over HTTP (drop parentJob).",
      { code: 'invalid_parent_job', details: { field: 'parentJob' } },
    );
  }
}

/**
 * Checks a service URL when the agent names it: absolute http(s), no credentials, no query or
 * fragment (the protocols append their paths; a `?` would turn those into a query on a path
 * the agent chose), and the network policy (src/core/network-policy.ts) for what can be judged
 * without DNS: plain http, and hosts that are IP addresses in any spelling. Names are judged
 * again, address by address, when the bridge connects.
 */
export function parseServiceUrl(value: string, policy: NetworkPolicy): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadInputError(
      `service "${value.slice(0, 100)}" is not an absolute URL such as https://api.example.com.`,
      {
        code: 'invalid_service_url',
        details: { field: 'service' },
      },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadInputError(`service must use https (got ${url.protocol.slice(0, 20)}).`, {
      code: 'invalid_service_url',
      details: { field: 'service' },
    });
  }
  if (url.username || url.password) {
    throw new BadInputError('service must not contain credentials in the URL.', {
      code: 'invalid_service_url',
      details: { field: 'service' },
    });
  }
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    throw new BadInputError(
      'service must not have a query (?) or fragment (#): name the API root, e.g. https://api.example.com/v1.',
      {
        code: 'service_url_has_query',
        details: { field: 'service' },
      },
    );
  }
  const verdict = policy.checkUrl(url);
  if (!verdict.ok) {
    const code = verdict.code === 'insecure_service_url' ? 'invalid_service_url' : verdict.code;
    const says =
      verdict.code === 'insecure_service_url'
        ? `service must use https: ${url.origin} ${verdict.reason}`
        : `service ${url.origin} ${verdict.reason}`;
    throw new BadInputError(says, { code, details: { field: 'service' } });
  }
  return url.toString().replace(/\/+$/, '');
}
