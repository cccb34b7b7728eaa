import { githubPlatform } from '../../adapters/github/index.js';
import { startFakeGithub } from '../fakes/github/fake-github-server.js';
import { describePollingContract } from './polling.contract.js';

/** GitHub's poller through Octokit against the fake: per repository, `since` cursor, ETags. */
describePollingContract('github', async () => {
  const fake = await startFakeGithub();
  const repo = 'octo-org/polled';
  fake.state.addRepo(repo, { private: true, issues: [3], collaborators: { alice: 'write' } });
  const polls = () => fake.requests.filter((r) => r.path === `/repos/${repo}/issues/comments`);
  return {
    descriptor: githubPlatform,
    env: { GITHUB_TOKEN: fake.auth.addToken('handoff-bot'), GITHUB_API_URL: fake.url, GITHUB_POLLING: 'true' },
    thread: `github:${repo}#3`,
    approver: { id: 'alice' },
    addReply: async (author, text, delayMs) => {
      fake.state.addComment(repo, 3, author.id, text, { at: Date.now() + delayMs });
    },
    notModified: () => polls().filter((r) => r.status === 304).length,
    rateLimitNext: (retryAfterS) =>
      fake.failNext({
        method: 'GET',
        path: /\/issues\/comments$/,
        status: 403,
        headers: { 'retry-after': String(retryAfterS) },
        message: 'You have exceeded a secondary rate limit.',
      }),
    close: () => fake.close(),
  };
});
