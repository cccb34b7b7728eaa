import { createLocalPlatform } from '../../adapters/local/local-platform.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';

describeThreadAdapterContract('local', async () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('contract-local');
  const platform = createLocalPlatform({
    linkOpened: async () => undefined,
    store: redisKeyValue(redis, createKeys(prefix).adapter('local')),
    sink: async () => 'accepted',
    now: Date.now,
  });
  const name = (ref: string) => ref.replace(/^local:/, '');
  return {
    adapter: platform.adapter,
    thread: 'local:contract',
    invalidThreads: ['local:', 'local:has space', 'local:../etc', `local:${'x'.repeat(70)}`, 'slack:C1/1.2'],
    readThread: async (ref) => (await platform.store.list(name(ref))).map((m) => ({ id: m.id, text: m.text })),
    postAsHuman: async (ref, text) => {
      const m = await platform.store.append(name(ref), { author: 'alice', text, kind: 'human', at: Date.now() });
      return { platform: 'local', thread: ref, id: m.id };
    },
    missingMessageId: 'contract.0000000000000000',
    close: async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
});
