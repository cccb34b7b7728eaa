import type { Logger } from '../../src/core/logger.js';
import type { SelfIdentity } from './github-comment.js';
import type { GithubClients } from './github-client.js';

/**
 * Who the bridge comments as. A GitHub App is known by its id (its comments carry
 * `performed_via_github_app`); a token's login is looked up once with GET /user in the
 * background. Until then (or if the token may not read /user) the hidden marker in every
 * comment the bridge writes is what keeps it from answering itself.
 */
export interface SelfIdentitySource {
  current(): SelfIdentity;
  /** Looks the token's login up (once); never throws. */
  resolve(): Promise<void>;
}

export function createSelfIdentity(clients: GithubClients, logger: Logger): SelfIdentitySource {
  let login: string | undefined;
  let pending: Promise<void> | undefined;
  return {
    current: () => ({ appId: clients.appId, login }),
    resolve() {
      const client = clients.tokenClient;
      if (!client) return Promise.resolve();
      pending ??= (async () => {
        try {
          login = (await client.octokit.rest.users.getAuthenticated()).data.login;
        } catch (err) {
          pending = undefined;
          logger.warn(
            'could not look up the GitHub login of GITHUB_TOKEN; own comments are recognised by their marker',
            { error: err },
          );
        }
      })();
      return pending;
    },
  };
}
