import type { Started } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';
import { say } from '../core/sentence.js';
import type { ClaimAttempt } from './authmd-answers.js';
import {
  defaultAttemptMs,
  defaultIntervalSeconds,
  maxIntervalSeconds,
  minIntervalSeconds,
  type LineSecret,
} from './authmd-line-state.js';
import { maskedEmail } from './authmd-token.js';
import { upstream } from './service-answer-errors.js';

/**
 * The instructions a claim attempt of auth.md's later shapes turns into (AUTHMD-VERSIONS.md §8).
 * The verification link is the service's text: shown only when it is http(s) the network
 * policy allows and on the service's or its authorization server's site (a `javascript:` link
 * or one on another host fails the start with `unsafe_approval_url`). The interval is clamped,
 * so a hostile `interval: 0` cannot make the bridge hammer the service.
 */

/** The link a person opens: http(s) the policy allows, on the service's or its authorization server's site. */
function showable(s: LineSecret, url: string, policy: NetworkPolicy): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw upstream(`${new URL(s.service).origin} gave a verification link that is not a URL.`, 'unsafe_approval_url');
  }
  if (
    !policy.checkLink(parsed).ok ||
    !(
      sameSiteAsAny(parsed, [s.service, ...(s.authorizationServer ? [s.authorizationServer] : [])]) ||
      policy.allowlisted(parsed.origin)
    )
  )
    throw upstream(
      `${new URL(s.service).origin} gave a verification link the bridge will not show (not https, or on another site).`,
      'unsafe_approval_url',
    );
  return url;
}

/** What the thread shows for a claim attempt: polling the link and the code, read-back the link only. */
export function startedForAttempt(
  s: LineSecret,
  attempt: ClaimAttempt,
  claimExpiresAt: number | undefined,
  now: number,
  policy: NetworkPolicy,
): Started {
  const approvalUrl = showable(s, attempt.verificationUri, policy);
  const expiresAt = Math.max(
    now + 30_000,
    Math.min(attempt.expiresAt ?? now + defaultAttemptMs, claimExpiresAt ?? Number.POSITIVE_INFINITY),
  );
  const who = s.email ? maskedEmail(s.email) : 'your account';
  const base = {
    approvalUrl,
    expiresAt,
    protocolVersion: s.line,
    ...(s.authorizationServer ? { authorizationServer: s.authorizationServer } : {}),
  };
  if (s.line === '0.6') {
    if (!attempt.userCode)
      throw upstream('The service started a claim without a user_code to show.', 'service_malformed_response');
    const seconds = attempt.intervalSeconds ?? defaultIntervalSeconds;
    const intervalMs =
      Math.min(maxIntervalSeconds, Math.max(minIntervalSeconds, Number.isFinite(seconds) ? seconds : 0)) * 1000;
    const secret: LineSecret = { ...s, intervalMs };
    return {
      ...base,
      userCode: attempt.userCode,
      answer: 'done',
      secret,
      pollIntervalMs: intervalMs,
      note: say`Sign in as ${who} on that page. The bridge notices the approval by itself; "done" makes it check at once.`,
    };
  }
  return {
    ...base,
    answer: 'page_code',
    secret: s,
    polls: false,
    note: say`Sign in as ${who}, press Authorize, and paste here the code the page shows.`,
  };
}
