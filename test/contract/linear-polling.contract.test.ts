import { linearPlatform } from '../../adapters/linear/index.js';
import { startFakeLinear } from '../fakes/linear/fake-linear-server.js';
import { describePollingContract } from './polling.contract.js';

/** Linear's poller through the SDK against the fake: one query for all waiting issues, a cursor per thread. */
describePollingContract('linear', async () => {
  const apiKey = `lin_api_${'Polling0'.repeat(5)}`;
  const fake = await startFakeLinear({ auth: apiKey, viewer: { admin: true } });
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const issue = fake.store.addIssue({ identifier: 'ENG-77', assigneeId: alice.id, creatorId: alice.id });
  return {
    descriptor: linearPlatform,
    env: { LINEAR_API_KEY: apiKey, LINEAR_API_URL: fake.url, LINEAR_POLL: 'on' },
    thread: 'linear:ENG-77',
    approver: { id: alice.id },
    addReply: async (author, text, delayMs) => {
      fake.store.addComment({ issueId: issue.id, body: text, userId: author.id, createdAt: Date.now() + delayMs });
    },
    // Linear's GraphQL API has no conditional requests.
    rateLimitNext: (retryAfterS) => fake.failNext('comments', { kind: 'ratelimit', retryAfterS }),
    close: () => fake.close(),
  };
});
