import { randomBytes } from 'node:crypto';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import {
  parseToyThread,
  toyBotId,
  toyMessages,
  toyPlatform,
  toySignature,
  toyWebhookPath,
} from '../helpers/toy-platform/index.js';
import { describePlatformContract, type InboundDelivery } from './platform.contract.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';

/**
 * The proof that a platform is one folder: test/helpers/toy-platform is defined here, under
 * test/ only, registered with the bridge's config by passing its descriptor, and passes the
 * same contract suites as the real platforms. (test/integration/toy-platform.test.ts runs a
 * whole bridge with it.)
 */
const secret = `toy-secret-${randomBytes(8).toString('hex')}`;
const env = { TOY_TOKEN: `toy_${'A1b2C3d4'.repeat(3)}`, TOY_WEBHOOK_SECRET: secret, TOY_MEMBERS: 'alice' };

const send = async (url: string, body: unknown, id: string, signWith = secret) => {
  const raw = JSON.stringify(body);
  const res = await fetch(`${url}${toyWebhookPath}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-toy-signature': toySignature(signWith, raw),
      'x-toy-delivery': id,
    },
    body: raw,
  });
  return res.status;
};
const message = (d: InboundDelivery, type = 'message') => ({
  type,
  room: 'lobby',
  author: d.author.id,
  text: d.text,
  id: d.messageId,
});

describePlatformContract('toy (defined under test/)', async () => ({
  descriptor: toyPlatform,
  env,
  invalidEnv: ['TOY_TOKEN', 'not-a-toy-token'],
  secretSample: `toy_${'Zz9Yy8Xx7'.repeat(3)}`,
  thread: 'toy:lobby',
  approver: { id: 'alice' },
  stranger: { id: 'mallory' },
  newMessage: async () => `m_${randomBytes(4).toString('hex')}`,
  deliver: (url, d) => send(url, message(d), d.deliveryId),
  deliverEdit: (url, d) => send(url, message(d, 'message_changed'), d.deliveryId),
  deliverEcho: (url, posted, text) =>
    send(url, { type: 'message', room: 'lobby', author: toyBotId, text, id: posted.id }, `echo-${posted.id}`),
  deliverForged: (url, d) => send(url, message(d), d.deliveryId, 'not-the-secret-at-all'),
  close: async () => undefined,
}));

describeThreadAdapterContract('toy (defined under test/)', async () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('contract-toy');
  const store = redisKeyValue(redis, `${prefix}:toy`);
  const configured = toyPlatform.configure(env)!;
  const module = await configured.create({
    store,
    sink: async () => 'accepted',
    clock: { now: Date.now },
    logger: (await import('../helpers/logs.js')).captureLogs('contract-toy').logger,
    linkOpened: async () => undefined,
    maxHandoffLifetimeMs: 3_600_000,
    publicBaseUrl: () => undefined,
  });
  return {
    adapter: module.adapter,
    thread: 'toy:contract',
    invalidThreads: ['toy:', 'toy:has space', 'toy:../x', 'local:demo'],
    readThread: async (ref) =>
      (await toyMessages(store, parseToyThread(ref).room)).map((m) => ({ id: m.id, text: m.text })),
    postAsHuman: async () => {
      throw new Error('toy threads have no reactions or redaction to try');
    },
    close: async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
});
