import { createGithubPlatform } from '../../adapters/github/github-platform.js';
import { loadPlatformConfig as loadConfig } from '../helpers/platform-config.js';
import { startFakeGithub } from '../fakes/github/fake-github-server.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';

describeThreadAdapterContract('github', async () => {
  const fake = await startFakeGithub();
  fake.state.addRepo('octo-org/app', { private: true, issues: [7], collaborators: { alice: 'write' } });
  const token = fake.auth.addToken('handoff-bot');
  const redis = connectTestRedis();
  const prefix = randomPrefix('contract-github');
  const config = loadConfig({ NODE_ENV: 'test', GITHUB_TOKEN: token, GITHUB_API_URL: fake.url }).github!;
  const platform = createGithubPlatform({
    config,
    store: redisKeyValue(redis, createKeys(prefix).adapter('github')),
    sink: async () => 'accepted',
    now: Date.now,
    logger: captureLogs('contract-github').logger,
  });
  const where = (ref: string) => {
    const t = platform.adapter.parseThread(ref);
    return { key: `${t.owner}/${t.repo}`, number: t.number };
  };
  return {
    adapter: platform.adapter,
    thread: 'github:Octo-Org/App#7',
    invalidThreads: [
      'github:',
      'github:octo/app',
      'github:octo/app#0',
      'github:octo#1',
      'github:-bad/app#1',
      'github:octo/app#x',
      'github:octo/../x#1',
      'local:demo',
    ],
    readThread: async (ref) => {
      const { key, number } = where(ref);
      return fake.state.thread(key, number).map((c) => ({ id: String(c.id), text: c.body }));
    },
    postAsHuman: async (ref, text) => {
      const { key, number } = where(ref);
      const comment = fake.state.addComment(key, number, 'alice', text);
      return { platform: 'github', thread: platform.adapter.parseThread(ref).ref, id: String(comment.id) };
    },
    missingMessageId: '987654321',
    rateLimitNextEdit: () =>
      fake.failNext({
        method: 'PATCH',
        path: /\/issues\/comments\/\d+$/,
        status: 429,
        headers: { 'retry-after': '3' },
        message: 'You have exceeded a secondary rate limit.',
      }),
    close: async () => {
      await fake.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
});
