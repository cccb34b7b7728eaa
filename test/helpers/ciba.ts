import type { CibaClient } from '../../src/core/config-ciba.js';
import { sandboxCibaClient } from '../../src/sandbox/ciba-state.js';

/** The sandbox's CIBA client, as HANDOFF_CIBA_CLIENTS would configure it for `origin`. */
export const sandboxCibaClients = (origin: string): Record<string, CibaClient> => ({
  [origin]: { clientId: sandboxCibaClient.clientId, kind: 'secret', secret: sandboxCibaClient.secret },
});

/**
 * Does what the person does on their own device: opens the sandbox's stand-in device page as
 * `email`, finds the request showing `bindingMessage` (or the only one), and approves or denies it.
 * Returns the binding message the device showed.
 */
export async function decideOnDevice(
  serviceUrl: string,
  decision: 'approve' | 'deny',
  email = 'alice@example.com',
  bindingMessage?: string,
): Promise<string> {
  const page = await (await fetch(`${serviceUrl}/phone?email=${encodeURIComponent(email)}`)).text();
  const cards = [
    ...page.matchAll(/data-testid="binding-message">([^<]*)<\/strong>[\s\S]*?name="id" value="([^"]+)"/g),
  ].map((m) => ({ binding: m[1]!, id: m[2]! }));
  const card = bindingMessage ? cards.find((c) => c.binding === bindingMessage) : cards.at(-1);
  if (!card) throw new Error(`the device of ${email} shows no request${bindingMessage ? ` "${bindingMessage}"` : ''}`);
  const res = await fetch(`${serviceUrl}/phone`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id: card.id, email, decision }).toString(),
  });
  if (res.status !== 200) throw new Error(`the device refused the ${decision} (HTTP ${res.status})`);
  return card.binding;
}

/** The binding message a CIBA start put in its note (`Handoff XXXX-XXXX`). */
export function bindingMessageOf(note: unknown): string {
  const found = /Handoff [A-Z0-9]{4}-[A-Z0-9]{4}/.exec(JSON.stringify(note))?.[0];
  if (!found) throw new Error('the note shows no binding message');
  return found;
}
