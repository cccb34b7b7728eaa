/**
 * The installation-token cache handed to `@octokit/auth-app` (its `cache` option: `get` and
 * `set` of strings). auth-app's own cache keeps a token for 59 minutes whatever GitHub said;
 * this one reads the token's `expires_at` and forgets it `refreshMarginMs` before, so a token
 * is refreshed ahead of expiry (and at once when GitHub Enterprise issues shorter ones).
 * Tokens stay in this process's memory only: never in Redis, never in a log.
 */
export interface InstallationTokenCache {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** Default: refresh an installation token five minutes before it expires, ms. */
export const tokenRefreshMarginMs = 5 * 60_000;

export function createInstallationTokenCache(options: {
  now: () => number;
  refreshMarginMs?: number;
}): InstallationTokenCache {
  const margin = options.refreshMarginMs ?? tokenRefreshMarginMs;
  const entries = new Map<string, string>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      // auth-app stores `token|createdAt|expiresAt|repositorySelection|permissions|file`.
      const expiresAt = Date.parse(value.split('|')[2] ?? '');
      if (!Number.isFinite(expiresAt) || expiresAt - margin <= options.now()) {
        entries.delete(key);
        return undefined;
      }
      return value;
    },
    set(key, value) {
      entries.set(key, value);
    },
  };
}
