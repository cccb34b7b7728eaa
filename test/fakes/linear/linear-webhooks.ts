import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FakeComment, FakeLinearStore } from './fake-linear-store.js';

/**
 * Webhooks as Linear sends them: the JSON body with `webhookTimestamp` (epoch ms) inside it,
 * `linear-signature` = hex HMAC-SHA256 of the exact body bytes with the webhook's signing
 * secret (no prefix), `linear-delivery` = a UUID per delivery, `linear-event` = the type.
 * Payloads start from a real, scrubbed `Comment` `create` delivery.
 */
const template = JSON.parse(
  readFileSync(new URL('../../fixtures/linear/comment-create.json', import.meta.url), 'utf8'),
) as Record<string, unknown> & { data: Record<string, unknown> };

export interface SignedWebhook {
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly deliveryId: string;
}

export function signLinearWebhook(
  secret: string,
  payload: Record<string, unknown>,
  options: { deliveryId?: string; timestamp?: number; signature?: string } = {},
): SignedWebhook {
  const body = JSON.stringify({ ...payload, webhookTimestamp: options.timestamp ?? Date.now() });
  const deliveryId = options.deliveryId ?? randomUUID();
  const signature = options.signature ?? createHmac('sha256', secret).update(body).digest('hex');
  return {
    body,
    deliveryId,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'linear-delivery': deliveryId,
      'linear-event': String(payload.type ?? 'Comment'),
      'linear-signature': signature,
      'user-agent': 'Linear-Webhook',
    },
  };
}

/** The `Comment` `create` payload Linear sends for a comment in the fake store. */
export function commentCreatedPayload(
  store: FakeLinearStore,
  comment: FakeComment,
  action: 'create' | 'update' | 'remove' = 'create',
): Record<string, unknown> {
  const issue = store.issues.get(comment.issueId)!;
  const user = comment.userId ? store.users.get(comment.userId) : undefined;
  const userPart = user
    ? {
        id: user.id,
        name: user.name,
        email: user.email,
        avatarUrl: null,
        url: `https://linear.app/example/profiles/${user.displayName}`,
      }
    : null;
  const created = new Date(comment.createdAt).toISOString();
  return {
    ...template,
    action,
    createdAt: created,
    actor: user ? { ...userPart, type: 'user' } : { id: 'integration', name: 'Integration', type: 'integration' },
    url: `https://linear.app/example/issue/${issue.identifier}#comment-${comment.id.slice(0, 8)}`,
    data: {
      ...template.data,
      id: comment.id,
      createdAt: created,
      updatedAt: created,
      body: comment.body,
      issueId: issue.id,
      parentId: comment.parentId ?? null,
      userId: comment.userId ?? null,
      botActor: comment.bot ? { id: 'bot-integration', type: 'integration', name: 'Integration' } : null,
      user: userPart,
      issue: {
        ...(template.data.issue as Record<string, unknown>),
        id: issue.id,
        identifier: issue.identifier,
        title: issue.title,
      },
    },
  };
}

/** POSTs a signed webhook to the bridge; returns the status and the parsed answer. */
export async function deliverWebhook(
  bridgeUrl: string,
  hook: SignedWebhook,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${bridgeUrl}/linear/webhooks`, { method: 'POST', headers: hook.headers, body: hook.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
