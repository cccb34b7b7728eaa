import { UpstreamError } from '../core/errors.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';
import type { Started } from '../core/login-protocol.js';

/**
 * The link a person is asked to open (approval, claim or verification page) comes from the
 * service. It is shown only when it is https (plain http only where the network policy allows
 * it, e.g. loopback in development) and on the same site as the service or the authorization
 * server the protocol followed; otherwise the handoff fails `unsafe_approval_url` and nothing
 * is posted. The message says what was wrong, never the link itself.
 */
export function checkApprovalLink(
  started: Pick<Started, 'approvalUrl' | 'authorizationServer'>,
  service: string,
  policy: NetworkPolicy,
): void {
  // No link (the person approves on their own device): nothing is shown, nothing to check.
  if (started.approvalUrl === undefined) return;
  const origin = new URL(service).origin;
  const fail = (why: string) =>
    new UpstreamError(`${origin} gave an approval link the bridge will not show: ${why}`, {
      code: 'unsafe_approval_url',
      upstreamStatus: 0,
      retry: 'never',
    });
  let url: URL;
  try {
    url = new URL(started.approvalUrl);
  } catch {
    throw fail('it is not a URL.');
  }
  const verdict = policy.checkLink(url);
  if (!verdict.ok) {
    throw fail(
      url.protocol === 'https:' || url.protocol === 'http:' ? `it ${verdict.reason}` : 'only https links are shown.',
    );
  }
  const anchors = [service, ...(started.authorizationServer ? [started.authorizationServer] : [])];
  if (!sameSiteAsAny(url, anchors) && !policy.allowlisted(url.origin)) {
    throw fail(`it leads to another site than ${origin}'s.`);
  }
}
