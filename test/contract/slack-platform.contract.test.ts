import { slackPlatform } from '../../adapters/slack/index.js';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { startFakeSlack } from '../fakes/slack/fake-slack-api.js';
import { fakeTeam } from '../fakes/slack/fake-slack-state.js';
import { newSigningSecret, postSignedEvent } from '../fakes/slack/slack-signing.js';
import { newTs, slackFixture, threadReplyEvent } from '../fixtures/slack/slack-fixtures.js';
import { describePlatformContract, type InboundDelivery } from './platform.contract.js';

/** Slack through the Web API client against the fake; Events API deliveries signed as Slack signs them. */
describePlatformContract('slack', async () => {
  const fake = await startFakeSlack();
  fake.addUser({ id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' });
  fake.addUser({ id: 'U0BOB00001', name: 'bob', realName: 'Bob Example', email: 'bob@example.com' });
  const channel = 'C0CONTRACT1';
  fake.state.members.set(channel, new Set(['U0ALICE001', 'U0BOB00001']));
  const parent = fake.postAsUser(channel, 'U0ALICE001', 'Starting a task that needs a login');
  const thread = `slack:${channel}/${parent.ts}`;
  const secret = newSigningSecret();
  const send = async (url: string, body: unknown, signWith = secret) =>
    (await postSignedEvent(`${url}/slack/events`, secret, body, { signWith })).status;
  const reply = (d: InboundDelivery) =>
    threadReplyEvent({
      channel,
      threadTs: parent.ts,
      user: d.author.id,
      text: d.text,
      ts: d.messageId,
      eventId: d.deliveryId,
    });
  return {
    descriptor: slackPlatform,
    env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: fake.url },
    invalidEnv: ['SLACK_BOT_TOKEN', 'xoxp-not-a-bot-token'],
    secretSample: `xoxb-1234567890-0987654321-${'AbCd'.repeat(6)}`,
    thread,
    approver: { id: 'U0ALICE001' },
    // Slack's permalink of the thread's parent message (chat.getPermalink).
    threadLink: () => `https://${fakeTeam.domain}.slack.com/archives/${channel}/p${parent.ts.replace('.', '')}`,
    stranger: { id: 'U0BOB00001' },
    newMessage: async () => newTs(),
    deliver: (url, d) => send(url, reply(d)),
    deliverEdit: (url, d) => {
      const body = slackFixture('event-message-changed') as Record<string, any>;
      Object.assign(body.event, { channel, ts: newTs(), event_ts: newTs() });
      Object.assign(body.event.message, { text: d.text, user: d.author.id, ts: d.messageId, thread_ts: parent.ts });
      Object.assign(body.event.previous_message, { user: d.author.id, ts: d.messageId, thread_ts: parent.ts });
      body.event_id = d.deliveryId;
      return send(url, body);
    },
    deliverEcho: (url, posted, text) => {
      const body = slackFixture('event-bot-reply') as Record<string, any>;
      const ts = parseSlackThread(thread).threadTs;
      Object.assign(body.event, { channel, thread_ts: ts, text, ts: posted.id.split(':').pop(), event_ts: newTs() });
      body.event_id = `Ev${Date.now()}`;
      return send(url, body);
    },
    deliverForged: (url, d) => send(url, reply(d), newSigningSecret()),
    close: () => fake.close(),
  };
});
