import { HandoffError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';

/**
 * GitHub's answers as our errors. Octokit throws a RequestError (`name: 'HttpError'`) with
 * the status and the response headers; network failures arrive as status 500 without a
 * response. Rate limits (GitHub docs, "Rate limits for the REST API"):
 * - `retry-after` (seconds) on a 403/429: wait that long (secondary limits);
 * - `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (epoch seconds): the primary limit,
 *   wait until the reset;
 * - a 403/429 that says "secondary rate limit" without either header: wait at least a minute.
 */
export interface GithubHttpError {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers: Readonly<Record<string, string | number | undefined>> };
}

export function isGithubHttpError(err: unknown): err is GithubHttpError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** Octokit's status of an error (304 included), or undefined for anything else. */
export const statusOf = (err: unknown): number | undefined => (isGithubHttpError(err) ? err.status : undefined);

/** Wait of a 403/429 that is a rate limit, ms; undefined when it is a plain refusal. */
export function rateLimitWaitMs(err: GithubHttpError, now: number): number | undefined {
  if (err.status !== 403 && err.status !== 429) return undefined;
  const headers = err.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(reset)) return Math.max(1_000, reset * 1000 - now + 1_000);
  }
  if (err.status === 429 || /rate limit/i.test(err.message)) return 60_000;
  return undefined;
}

/**
 * Maps anything an Octokit call threw to a HandoffError. `what` says what we tried, for the
 * message (e.g. "post to octo/app#1"); GitHub's own message is appended (it holds no secrets:
 * tokens travel in headers, and Octokit redacts them from the error's request).
 */
export function githubError(err: unknown, what: string, now: number): HandoffError {
  if (err instanceof HandoffError) return err;
  if (!isGithubHttpError(err)) {
    return new UpstreamError(`Could not ${what} on GitHub: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'github_unavailable',
      upstreamStatus: 0,
      cause: err,
    });
  }
  const wait = rateLimitWaitMs(err, now);
  if (wait !== undefined) {
    return new RateLimitedError(
      `GitHub rate-limited the bridge while trying to ${what}; retrying in ${Math.ceil(wait / 1000)} s.`,
      wait,
      { code: 'github_rate_limited', cause: err },
    );
  }
  const detail = err.message.split('\n')[0]!.slice(0, 200);
  if (!err.response) {
    return new UpstreamError(`Could not reach GitHub to ${what}: ${detail}`, {
      code: 'github_unavailable',
      upstreamStatus: 0,
      cause: err,
    });
  }
  const hint: Record<number, [code: string, hint: string]> = {
    401: ['github_unauthorized', 'check GITHUB_TOKEN or the GitHub App’s key and installation'],
    403: ['github_forbidden', 'the bridge’s token or App lacks permission for this'],
    404: ['github_not_found', 'check that it exists and that the bridge’s token or App can see it'],
    410: ['github_gone', 'issues may be disabled on this repository'],
    422: ['github_rejected', 'GitHub refused the request as invalid'],
  };
  const [code, advice] = hint[err.status] ?? [
    err.status >= 500 ? 'github_unavailable' : 'github_rejected',
    'GitHub refused the request',
  ];
  return new UpstreamError(`GitHub answered ${err.status} when the bridge tried to ${what} (${advice}): ${detail}`, {
    code,
    upstreamStatus: err.status,
    cause: err,
  });
}
