import { z } from 'zod';
import { BadInputError } from '../core/errors.js';

/**
 * What an agent asks for, over HTTP or through requireLogin(). One schema for both. Limits
 * keep a single request from costing much: strings are short, lists are short.
 */
const shortText = (max: number) => z.string().trim().min(1).max(max);

export const handoffRequestSchema = z.strictObject({
  service: z.string().trim().min(1).max(2048),
  protocol: z.enum(['agent-sessions', 'authmd', 'device', 'auto']).optional(),
  thread: shortText(512),
  approvers: z.array(shortText(256)).max(50).default([]),
  approverEmail: z.email().max(320).optional(),
  agent: z.strictObject({ id: shortText(200), correlationId: shortText(200).optional() }),
  scopes: z.array(shortText(200)).max(100).default([]),
  expiresInMs: z.number().int().positive().optional(),
  idempotencyKey: shortText(200).optional(),
  label: shortText(200).optional(),
});

export type HandoffRequestInput = z.input<typeof handoffRequestSchema>;
export type HandoffRequest = z.output<typeof handoffRequestSchema>;

function fieldName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || 'body';
}

/** Validates a request body; the error names the first offending field. */
export function parseHandoffRequest(body: unknown): HandoffRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('The request body must be a JSON object.', { code: 'invalid_request', details: { field: 'body' } });
  }
  // Before anything else, so no form of it gets further than this (nothing is written).
  if (Object.hasOwn(body, 'parentJob')) {
    throw new BadInputError(
      "The bridge no longer attaches handoffs to agents' jobs; use requireLogin() from the client, which resumes over HTTP (drop parentJob).",
      { code: 'invalid_parent_job', details: { field: 'parentJob' } },
    );
  }
  const parsed = handoffRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? fieldName([...issue.path, issue.keys[0] ?? '']) : fieldName(issue.path);
  const what = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message.replace(/^Invalid input: /, '');
  throw new BadInputError(`Field "${field}" ${what}.`, { code: 'invalid_request', details: { field } });
}

/** Checks a service URL: absolute http(s); plain http only for loopback outside production. */
export function parseServiceUrl(value: string, production: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadInputError(`service "${value.slice(0, 100)}" is not an absolute URL such as https://api.example.com.`, {
      code: 'invalid_service_url',
      details: { field: 'service' },
    });
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || !production))) {
    throw new BadInputError(`service must use https (got ${url.protocol}//${url.host}).`, {
      code: 'invalid_service_url',
      details: { field: 'service' },
    });
  }
  if (url.username || url.password) {
    throw new BadInputError('service must not contain credentials in the URL.', { code: 'invalid_service_url', details: { field: 'service' } });
  }
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
