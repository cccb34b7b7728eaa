import { App } from '@octokit/app';
import { Octokit } from '@octokit/rest';
import type { GithubAuthConfig } from './github-config.js';
import type { Logger } from '../../src/core/logger.js';
import { githubError } from './github-errors.js';
import type { RateBudget } from './github-rate-budget.js';
import { createInstallationTokenCache } from './github-token-cache.js';

/**
 * Octokit clients for the bridge: one for a token, or one per App installation (tokens from
 * `@octokit/app`, refreshed ahead of expiry). No throttling or retry plugin is loaded: a rate
 * limit becomes a RateLimitedError and the bridge's queues do the waiting, so no worker ever
 * sleeps inside Octokit. Every response's rate-limit headers feed the RateBudget.
 */
export interface RepoClient {
  readonly octokit: Octokit;
  /** Whose rate limit the calls spend: `token` or `installation:<id>`. */
  readonly identity: string;
}

export interface GithubClients {
  forRepo(owner: string, repo: string): Promise<RepoClient>;
  /** The App's id (its comments carry `performed_via_github_app.id`); undefined for a token. */
  readonly appId: number | undefined;
  /** The one client of token mode (undefined for an App, whose clients are per installation). */
  readonly tokenClient: RepoClient | undefined;
}

export interface GithubClientOptions {
  readonly auth: GithubAuthConfig;
  /** REST base URL, e.g. https://api.github.com or https://ghe.example/api/v3. */
  readonly apiUrl: string;
  readonly budget: RateBudget;
  readonly logger: Logger;
  readonly now: () => number;
  /** Per-request timeout, ms. Default 15 s. */
  readonly timeoutMs?: number;
  /** Refresh an installation token this long before it expires, ms. Default 5 min. */
  readonly tokenRefreshMarginMs?: number;
}

/** How long a repository's installation id is remembered, ms. */
const installationCacheMs = 3_600_000;

/**
 * Octokit's logger, mapped onto ours. Its debug lines (whole request options, bodies included)
 * are dropped; its per-request lines (info, and error for every non-2xx, 304s included) become
 * debug: the bridge logs the failures that matter itself. Deprecation warnings stay warnings.
 */
function octokitLog(logger: Logger) {
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return {
    debug: () => undefined,
    info: (...args: unknown[]) => logger.debug(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    error: (...args: unknown[]) => logger.debug(text(args)),
  };
}

export function createGithubClients(options: GithubClientOptions): GithubClients {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const log = octokitLog(options.logger.child({ component: 'octokit' }));
  const fetchWithTimeout: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
  const tokenCache = createInstallationTokenCache({
    now: options.now,
    ...(options.tokenRefreshMarginMs !== undefined ? { refreshMarginMs: options.tokenRefreshMarginMs } : {}),
  });

  // Applied to every Octokit built here, including the installation clients @octokit/app
  // builds from the App's own class: our base URL, fetch, logger and token cache.
  const BridgeOctokit = Octokit.defaults((given: Record<string, unknown>) => ({
    ...given,
    baseUrl: options.apiUrl,
    userAgent: 'handoff-bridge',
    log,
    request: { ...(given.request as object | undefined), fetch: fetchWithTimeout },
    ...(given.authStrategy ? { auth: { ...(given.auth as object), cache: tokenCache } } : {}),
  })) as typeof Octokit;

  const watch = (octokit: Octokit, identity: string): RepoClient => {
    octokit.hook.after('request', (response) => options.budget.observe(identity, response.headers));
    octokit.hook.error('request', (error) => {
      options.budget.observe(
        identity,
        (error as { response?: { headers?: Record<string, unknown> } }).response?.headers,
      );
      throw error;
    });
    return { octokit, identity };
  };

  if (options.auth.kind === 'token') {
    const client = watch(new BridgeOctokit({ auth: options.auth.token }), 'token');
    return { appId: undefined, tokenClient: client, forRepo: async () => client };
  }

  const { appId, privateKey, installationId: fixedInstallation } = options.auth;
  const app = new App({ appId, privateKey, Octokit: BridgeOctokit, log });
  // Which installation serves a repository; looked up again after an hour (an App can be
  // uninstalled and installed again under a new id).
  const installations = new Map<string, { id: Promise<number>; at: number }>();
  const clients = new Map<number, Promise<RepoClient>>();

  const installationOf = (owner: string, repo: string): Promise<number> => {
    if (fixedInstallation !== undefined) return Promise.resolve(fixedInstallation);
    const key = `${owner}/${repo}`;
    const known = installations.get(key);
    if (known && options.now() - known.at < installationCacheMs) return known.id;
    // GET /repos/{owner}/{repo}/installation, authenticated as the App (a JWT).
    const id = app.octokit
      .request('GET /repos/{owner}/{repo}/installation', { owner, repo })
      .then((res) => res.data.id)
      .catch((err: unknown) => {
        installations.delete(key);
        throw githubError(err, `find the GitHub App installation for ${key}`, options.now());
      });
    installations.set(key, { id, at: options.now() });
    return id;
  };

  return {
    appId,
    tokenClient: undefined,
    async forRepo(owner, repo) {
      const id = await installationOf(owner, repo);
      let client = clients.get(id);
      if (!client) {
        client = app
          .getInstallationOctokit(id)
          .then((octokit) => watch(octokit as unknown as Octokit, `installation:${id}`));
        client.catch(() => clients.delete(id));
        clients.set(id, client);
      }
      return client;
    },
  };
}
