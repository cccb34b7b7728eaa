import { createSlackPlatform } from '../../adapters/slack/slack-platform.js';
import { parseSlackThread, slackMessageId } from '../../adapters/slack/slack-thread.js';
import { startFakeSlack } from '../fakes/slack/fake-slack-api.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { newSigningSecret } from '../fakes/slack/slack-signing.js';
import { captureLogs } from '../helpers/logs.js';
import { describeThreadAdapterContract } from './thread-adapter.contract.js';

describeThreadAdapterContract('slack', async () => {
  const slack = await startFakeSlack();
  slack.addUser({ id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' });
  const channel = 'C0CONTRACT1';
  const parent = slack.postAsUser(channel, 'U0ALICE001', 'Starting a task that needs a login');
  const { logger } = captureLogs('contract-slack');
  const platform = createSlackPlatform({
    config: {
      botToken: slack.botToken,
      inbound: { mode: 'events', signingSecret: newSigningSecret() },
      apiUrl: slack.url,
      privateLinks: true,
      dmOutsideChannel: false,
      codeModal: true,
      outboundPerSecond: 1,
      sharedChannels: 'warn',
    },
    sink: async () => 'accepted',
    now: Date.now,
    logger,
  });
  return {
    adapter: platform.adapter,
    thread: `slack:${channel}/${parent.ts}`,
    invalidThreads: [
      'slack:',
      'slack:C0123ABC',
      'slack:C0123ABC/1700000000',
      'slack:C0123ABC/1700000000.1',
      'slack:X0123ABC/1700000000.000100',
      'slack:C0123ABC/1700000000.000100/extra',
      'slack:C 0123/1700000000.000100',
      'slack:https://example.com/archives/C0123ABC/p1700000000000100',
      'local:demo',
    ],
    readThread: async (ref) => {
      const thread = parseSlackThread(ref);
      return slack.state
        .thread(thread.channel, thread.threadTs)
        .map((m) => ({ id: slackMessageId(m.channel, m.ts), text: shownText(m) }));
    },
    postAsHuman: async (ref, text) => {
      const thread = parseSlackThread(ref);
      const message = slack.postAsUser(thread.channel, 'U0ALICE001', text, thread.threadTs);
      return { platform: 'slack', thread: thread.ref, id: slackMessageId(thread.channel, message.ts) };
    },
    privateAnswers: {
      to: { id: 'U0ALICE001', name: 'alice' },
      read: async (ref) => {
        const thread = parseSlackThread(ref);
        return slack.state.ephemeral
          .filter((e) => e.user === 'U0ALICE001' && e.channel === thread.channel && e.threadTs === thread.threadTs)
          .map(shownText);
      },
    },
    missingMessageId: slackMessageId(channel, '1111111111.000001'),
    rateLimitNextEdit: () => slack.failNext('chat.update', { status: 429, retryAfterSec: 3 }),
    close: () => slack.close(),
  };
});
