import type { PlatformDescriptor } from '../../src/core/platform.js';
import { githubConfigFrom, githubEnv } from './github-config.js';
import { parseGithubThread } from './github-thread.js';

export { parseGithubThread, githubThreadRef, type GithubThread } from './github-thread.js';
export { githubConfigFrom, type GithubConfig } from './github-config.js';

/**
 * GitHub issues and pull requests as threads. Light on purpose: Octokit is imported by
 * `create` only, so a bridge without GitHub does not load it.
 */
export const githubPlatform: PlatformDescriptor = {
  name: 'github',
  threadExample: 'github:octo-org/app#42',
  parseThread: parseGithubThread,
  env: githubEnv,
  secretVariables: ['GITHUB_TOKEN', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_WEBHOOK_SECRET'],
  secretShapes: [
    // classic, OAuth, user-to-server, server-to-server and refresh tokens; fine-grained tokens
    /(?:\b|(?<=\\[nrt]))gh[pousr]_[A-Za-z0-9]{20,}/g,
    /(?:\b|(?<=\\[nrt]))github_pat_[A-Za-z0-9_]{20,}/g,
  ],
  howToEnable:
    'Set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, to enable GitHub threads (see README, "GitHub").',
  configure(env) {
    const config = githubConfigFrom(env);
    if (!config) return undefined;
    return {
      name: 'github',
      settings: config,
      publicThreads: {
        mode: config.allowPublicRepos ? 'warn' : 'refuse',
        howToAllow: 'set GITHUB_ALLOW_PUBLIC_REPOS=true on the bridge (the link is then posted with a warning)',
      },
      async create(ctx) {
        const { createGithubPlatform } = await import('./github-platform.js');
        return createGithubPlatform({
          config,
          store: ctx.store,
          sink: ctx.sink,
          now: () => ctx.clock.now(),
          logger: ctx.logger,
        });
      },
    };
  },
};
