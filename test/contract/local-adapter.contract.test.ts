import { createLocalPlatform } from '../../adapters/local/local-platform.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('local thread link', () => {
  const redis = connectTestRedis();
  afterAll(() => redis.disconnect());
  const platform = (baseUrl: () => string | undefined) =>
    createLocalPlatform({
      linkOpened: async () => undefined,
      // Nothing is stored: the link is made from the ref and the bridge's address alone.
      store: redisKeyValue(redis, `${randomPrefix('local-link')}:local`),
      sink: async () => 'accepted',
      now: Date.now,
      baseUrl,
    }).adapter;

  it('is the thread’s page on the bridge, once the bridge’s address is known', async () => {
    const adapter = platform(() => 'https://handoff.example.com/');
    expect(await adapter.threadLink!(adapter.parseThread('local:on-call_2'))).toBe(
      'https://handoff.example.com/threads/on-call_2',
    );
    const unknown = platform(() => undefined);
    expect(await unknown.threadLink!(unknown.parseThread('local:demo'))).toBeUndefined();
  });
});
