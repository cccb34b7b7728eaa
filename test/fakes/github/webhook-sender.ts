import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

/**
 * Delivers a webhook the way GitHub does: JSON body, `x-github-event`, `x-github-delivery`
 * (a GUID), and `x-hub-signature-256` = `sha256=` + hex HMAC-SHA256 of the exact body.
 */
export interface Delivery {
  readonly event: string;
  readonly payload: unknown;
  readonly deliveryId?: string;
  /** Signs with this secret (default: the bridge's). */
  readonly secret: string;
  /** Sends this signature instead of the right one. */
  readonly signature?: string | null;
}

export async function deliverWebhook(
  bridgeUrl: string,
  delivery: Delivery,
): Promise<{ status: number; body: unknown; deliveryId: string }> {
  const body = JSON.stringify(delivery.payload);
  const deliveryId = delivery.deliveryId ?? randomUUID();
  const signature = delivery.signature === undefined ? await sign(delivery.secret, body) : delivery.signature;
  const res = await fetch(`${bridgeUrl}/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': delivery.event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '1',
      ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, deliveryId };
}
