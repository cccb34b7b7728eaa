import { describe, expect, it } from 'vitest';
import { githubError } from '../../adapters/github/github-errors.js';
import { createRateBudget } from '../../adapters/github/github-rate-budget.js';
import { createInstallationTokenCache } from '../../adapters/github/github-token-cache.js';
import { RateLimitedError, UpstreamError } from '../../src/core/errors.js';

/** An error shaped as Octokit's RequestError ("HttpError"). */
function httpError(status: number, message: string, headers: Record<string, string> = {}, response = true): Error {
  return Object.assign(new Error(message), {
    name: 'HttpError',
    status,
    ...(response ? { response: { headers } } : {}),
  });
}

const now = 1_700_000_000_000;

describe('GitHub errors', () => {
  it('turns secondary and primary rate limits into delays', () => {
    const secondary = githubError(
      httpError(403, 'You have exceeded a secondary rate limit', { 'retry-after': '30' }),
      'post',
      now,
    );
    expect(secondary).toBeInstanceOf(RateLimitedError);
    expect(secondary.retryAfterMs).toBe(30_000);
    const primary = githubError(
      httpError(403, 'API rate limit exceeded', {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(now / 1000 + 120),
      }),
      'post',
      now,
    );
    expect(primary.retryAfterMs).toBe(121_000);
    expect(githubError(httpError(429, 'Too many'), 'post', now).retryAfterMs).toBe(60_000);
    expect(githubError(httpError(403, 'You have exceeded a secondary rate limit.'), 'post', now).retryAfterMs).toBe(
      60_000,
    );
  });

  it('fails at once on refusals, retries with backoff on 5xx and network errors', () => {
    const forbidden = githubError(
      httpError(403, 'Resource not accessible by integration', { 'x-ratelimit-remaining': '4000' }),
      'post to x',
      now,
    );
    expect(forbidden).toBeInstanceOf(UpstreamError);
    expect(forbidden).toMatchObject({ code: 'github_forbidden', retry: 'never' });
    expect(githubError(httpError(404, 'Not Found'), 'post', now)).toMatchObject({
      code: 'github_not_found',
      retry: 'never',
    });
    expect(githubError(httpError(502, 'Bad gateway'), 'post', now)).toMatchObject({
      code: 'github_unavailable',
      retry: 'backoff',
    });
    expect(githubError(httpError(500, 'connect ECONNREFUSED', {}, false), 'post', now)).toMatchObject({
      code: 'github_unavailable',
      retry: 'backoff',
    });
    expect(githubError(new TypeError('fetch failed'), 'post', now)).toMatchObject({
      code: 'github_unavailable',
      retry: 'backoff',
    });
  });
});

describe('the rate budget behind the poll interval', () => {
  const headers = (remaining: number, resetInS: number) => ({
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(now / 1000 + resetInS),
  });

  it('keeps the base interval while the budget is healthy', () => {
    const budget = createRateBudget();
    expect(budget.nextPollMs('token', 10, 30_000, now)).toBe(30_000); // nothing heard yet
    budget.observe('token', headers(4_000, 3_600));
    expect(budget.nextPollMs('token', 10, 30_000, now)).toBe(30_000);
  });

  it('stretches the interval as the budget runs low, and waits for the reset at the reserve', () => {
    const budget = createRateBudget();
    budget.observe('token', headers(600, 3_600));
    // 10 scopes at 30 s = 1,200 polls before the reset; (600 - 250) / 2 = 175 may be spent.
    expect(budget.nextPollMs('token', 10, 30_000, now)).toBe(Math.ceil((10 * 3_600_000) / 175));
    budget.observe('token', headers(200, 1_800));
    expect(budget.nextPollMs('token', 10, 30_000, now)).toBe(1_801_000);
    budget.observe('other', { nonsense: 'x' });
    expect(budget.snapshot('other')).toBeUndefined();
  });
});

describe('the installation token cache', () => {
  it('forgets a token five minutes before it expires', () => {
    let clock = now;
    const cache = createInstallationTokenCache({ now: () => clock });
    const expires = new Date(now + 10 * 60_000).toISOString();
    cache.set('42', `ghs_x|${new Date(now).toISOString()}|${expires}|all|issues!`);
    expect(cache.get('42')).toContain('ghs_x');
    clock = now + 5 * 60_000 - 1;
    expect(cache.get('42')).toBeDefined();
    clock = now + 5 * 60_000;
    expect(cache.get('42')).toBeUndefined();
    expect(cache.get('42')).toBeUndefined();
  });
});
