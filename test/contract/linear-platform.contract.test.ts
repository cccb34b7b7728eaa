import { randomBytes } from 'node:crypto';
import { linearPlatform } from '../../adapters/linear/index.js';
import { startFakeLinear } from '../fakes/linear/fake-linear-server.js';
import { commentCreatedPayload, signLinearWebhook } from '../fakes/linear/linear-webhooks.js';
import { describePlatformContract, type InboundDelivery } from './platform.contract.js';

/** Linear through its SDK against the fake; webhooks signed as Linear signs them. */
describePlatformContract('linear', async () => {
  const apiKey = `lin_api_${'Contract'.repeat(5)}`;
  const fake = await startFakeLinear({ auth: apiKey, viewer: { admin: true } });
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const bob = fake.store.addUser({ name: 'Bob Example', displayName: 'bob' });
  const issue = fake.store.addIssue({ identifier: 'ENG-42', assigneeId: alice.id, creatorId: alice.id });
  const secret = `lin_wh_${randomBytes(12).toString('hex')}`;
  const send = async (url: string, payload: Record<string, unknown>, deliveryId: string, signWith = secret) => {
    const hook = signLinearWebhook(signWith, payload, { deliveryId });
    return (await fetch(`${url}/linear/webhooks`, { method: 'POST', headers: hook.headers, body: hook.body })).status;
  };
  const payload = (d: InboundDelivery, action: 'create' | 'update' = 'create') => {
    const comment = fake.store.comments.get(d.messageId)!;
    return commentCreatedPayload(fake.store, { ...comment, body: d.text }, action);
  };
  return {
    descriptor: linearPlatform,
    env: { LINEAR_API_KEY: apiKey, LINEAR_API_URL: fake.url, LINEAR_WEBHOOK_SECRET: secret, LINEAR_POLL: 'off' },
    invalidEnv: ['LINEAR_POLL', 'sometimes'],
    secretSample: `lin_oauth_${'Q1w2E3r4T5'.repeat(3)}`,
    thread: 'linear:ENG-42',
    approver: { id: alice.id },
    threadLink: () => 'https://linear.app/example/issue/ENG-42',
    stranger: { id: bob.id },
    newMessage: async (author, text) => fake.store.addComment({ issueId: issue.id, body: text, userId: author.id }).id,
    deliver: (url, d) => send(url, payload(d), d.deliveryId),
    deliverEdit: (url, d) => send(url, payload(d, 'update'), d.deliveryId),
    deliverEcho: (url, posted) =>
      send(url, commentCreatedPayload(fake.store, fake.store.comments.get(posted.id)!), `echo-${posted.id}`),
    deliverForged: (url, d) => send(url, payload(d), d.deliveryId, 'lin_wh_not_the_secret'),
    close: () => fake.close(),
  };
});
