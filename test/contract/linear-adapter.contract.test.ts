import { createLinearPlatform } from '../../adapters/linear/linear-platform.js';
import { systemClock } from '../../src/core/clock.js';
import { startFakeLinear } from '../fakes/linear/fake-linear-server.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';

/** The Linear adapter with the real LinearClient against the in-process fake Linear API. */
describeThreadAdapterContract('linear', async () => {
  const apiKey = `lin_api_${'C0ntract'.repeat(5)}`;
  const fake = await startFakeLinear({ auth: apiKey, viewer: { admin: true } });
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const issue = fake.store.addIssue({ identifier: 'ENG-42', assigneeId: alice.id, creatorId: alice.id });
  const redis = connectTestRedis();
  const prefix = randomPrefix('contract-linear');
  const { logger } = captureLogs('contract-linear');
  const platform = createLinearPlatform({
    config: { auth: { kind: 'api_key', apiKey }, apiUrl: fake.url, webhookSecret: undefined, poll: undefined },
    store: redisKeyValue(redis, createKeys(prefix).adapter('linear')),
    sink: async () => 'accepted',
    clock: systemClock,
    logger,
  });
  return {
    adapter: platform.adapter,
    thread: 'linear:eng-42',
    invalidThreads: [
      'linear:',
      'linear:ENG',
      'linear:ENG-',
      'linear:42',
      'linear:ENG-0',
      'linear:has space-1',
      'linear:not-a-uuid-at-all',
      'github:octo/app#1',
    ],
    readThread: async () => fake.store.commentsOf(issue.id).map((c) => ({ id: c.id, text: c.body })),
    postAsHuman: async (ref, text) => {
      const comment = fake.store.addComment({ issueId: issue.id, body: text, userId: alice.id });
      return { platform: 'linear', thread: ref, id: comment.id };
    },
    missingMessageId: '5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    rateLimitNextEdit: () => fake.failNext('commentUpdate', { kind: 'ratelimit', retryAfterS: 3 }),
    close: async () => {
      await fake.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
});
