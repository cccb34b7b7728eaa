import { ErrorCode, type WebAPICallError } from '@slack/web-api';
import { HandoffError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';

/**
 * Slack Web API failures in the bridge's one error hierarchy. The WebClient runs with
 * `rejectRateLimitedCalls` and no retries of its own, so every failure surfaces here once and
 * the queue decides: a 429 becomes RateLimitedError (the platform queue pauses for
 * Retry-After; the action waits, it is never dropped), transient trouble is retried with
 * backoff, and anything Slack will answer the same way again fails now.
 */

/** `ok:false` errors that are Slack's trouble, not ours: worth another try. */
const transient = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

/** What to do about the common `ok:false` errors, in words for an operator. */
const hints: Record<string, string> = {
  not_in_channel: 'Invite the bot to the channel (/invite @your-bot) and try again.',
  channel_not_found: 'Check the channel id in the thread ref, and that the bot is a member of that channel.',
  thread_not_found: 'Check the thread timestamp in the thread ref.',
  is_archived: 'The channel is archived.',
  invalid_auth: 'Check SLACK_BOT_TOKEN.',
  not_authed: 'Check SLACK_BOT_TOKEN.',
  token_revoked: 'The bot token was revoked; reinstall the app and update SLACK_BOT_TOKEN.',
  account_inactive: 'The bot token belongs to a deleted user or an uninstalled app; update SLACK_BOT_TOKEN.',
  missing_scope: 'Add the missing scope to the Slack app (see the manifest in the README) and reinstall it.',
  user_not_in_channel: 'The approver is not a member of the channel.',
  users_not_found: 'No Slack user has that email address.',
  user_not_found: 'No Slack user has that id.',
  invalid_blocks: 'Slack rejected the message layout.',
  expired_trigger_id: 'The button was clicked more than 3 seconds before the modal could open.',
};

function isSlackError(err: unknown): err is WebAPICallError {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (Object.values(ErrorCode) as string[]).includes(code);
}

/** Converts what a WebClient call threw. `method` is named in the message (e.g. `chat.postMessage`). */
export function fromSlackError(err: unknown, method: string): HandoffError {
  if (err instanceof HandoffError) return err;
  if (!isSlackError(err)) {
    return new UpstreamError(`Calling Slack ${method} failed.`, {
      code: 'slack_unreachable',
      upstreamStatus: 0,
      cause: err,
    });
  }
  switch (err.code) {
    case ErrorCode.RateLimitedError:
      return new RateLimitedError(`Slack asked the bridge to slow down (${method}).`, err.retryAfter * 1000, {
        code: 'slack_rate_limited',
        cause: err,
      });
    case ErrorCode.PlatformError: {
      const slackCode = err.data.error;
      const needed = (err.data as { needed?: unknown }).needed;
      const scope = slackCode === 'missing_scope' && typeof needed === 'string' ? ` (needs ${needed})` : '';
      const hint = hints[slackCode] ? ` ${hints[slackCode]}` : '';
      return new UpstreamError(`Slack refused ${method}: ${slackCode}${scope}.${hint}`, {
        code: 'slack_api_error',
        upstreamStatus: 200,
        upstreamCode: slackCode,
        retry: transient.has(slackCode) ? 'backoff' : 'never',
        cause: err,
      });
    }
    case ErrorCode.HTTPError:
      return new UpstreamError(`Slack answered ${method} with HTTP ${err.statusCode}.`, {
        code: 'slack_http_error',
        upstreamStatus: err.statusCode,
        cause: err,
      });
    case ErrorCode.RequestError:
      return new UpstreamError(`Could not reach Slack for ${method}.`, {
        code: 'slack_unreachable',
        upstreamStatus: 0,
        cause: err,
      });
    default:
      return new UpstreamError(`Calling Slack ${method} failed.`, {
        code: 'slack_api_error',
        upstreamStatus: 0,
        cause: err,
      });
  }
}

/** The `ok:false` error code Slack answered with, when that is what went wrong. */
export function slackErrorCode(err: unknown): string | undefined {
  return err instanceof UpstreamError && err.code === 'slack_api_error' ? err.upstreamCode : undefined;
}

/** Runs one Web API call and converts its failure. */
export async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fromSlackError(err, method);
  }
}
