import { createGithubPlatform } from '../../adapters/github/github-platform.js';
import { createLinearPlatform } from '../../adapters/linear/linear-platform.js';
import { createSlackPlatform } from '../../adapters/slack/slack-platform.js';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { systemClock } from '../../src/core/clock.js';
import { loadPlatformConfig as loadConfigAsIs } from './platform-config.js';
import type { ThreadAdapter } from '../../src/core/thread-adapter.js';
import { startFakeGithub } from '../fakes/github/fake-github-server.js';
import { startFakeLinear } from '../fakes/linear/fake-linear-server.js';
import { startFakeSlack } from '../fakes/slack/fake-slack-api.js';
import type { FakeMessage } from '../fakes/slack/fake-slack-state.js';
import { newSigningSecret } from '../fakes/slack/slack-signing.js';
import { captureLogs } from './logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from './redis.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';

/** Development unless the test says otherwise (the schema defaults to production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

/**
 * The GitHub, Linear and Slack adapters, each through its official SDK against its in-process
 * fake, with what each platform stored read back raw: the markdown of a GitHub or Linear
 * comment, the text and blocks of a Slack message. For tests of what lands in threads.
 */
export interface PlatformFakes {
  readonly github: { adapter: ThreadAdapter; thread: string; bodies(): string[] };
  readonly linear: { adapter: ThreadAdapter; thread: string; bodies(): string[] };
  readonly slack: {
    adapter: ThreadAdapter;
    thread: string;
    messages(): FakeMessage[];
    /** Direct messages the app sent (to channels `D…`). */
    directMessages(): FakeMessage[];
    fake: Awaited<ReturnType<typeof startFakeSlack>>;
  };
  close(): Promise<void>;
}

export async function startPlatformFakes(
  name: string,
  options: { slackDmOutsideChannel?: boolean } = {},
): Promise<PlatformFakes> {
  const redis = connectTestRedis();
  const prefix = randomPrefix(name);
  const { logger } = captureLogs(name);

  const gh = await startFakeGithub();
  gh.state.addRepo('octo-org/app', { private: true, issues: [7], collaborators: { alice: 'write' } });
  const github = createGithubPlatform({
    config: loadConfig({ GITHUB_TOKEN: gh.auth.addToken('handoff-bot'), GITHUB_API_URL: gh.url }).github!,
    store: redisKeyValue(redis, createKeys(prefix).adapter('github')),
    sink: async () => 'accepted',
    now: Date.now,
    logger,
  });

  const apiKey = `lin_api_${'Security'.repeat(5)}`;
  const lin = await startFakeLinear({ auth: apiKey, viewer: { admin: true } });
  const alice = lin.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const issue = lin.store.addIssue({ identifier: 'ENG-42', assigneeId: alice.id, creatorId: alice.id });
  const linear = createLinearPlatform({
    config: { auth: { kind: 'api_key', apiKey }, apiUrl: lin.url, webhookSecret: undefined, poll: undefined },
    store: redisKeyValue(redis, createKeys(prefix).adapter('linear')),
    sink: async () => 'accepted',
    clock: systemClock,
    logger,
  });

  const sl = await startFakeSlack();
  sl.addUser({ id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' });
  sl.addUser({ id: 'U0BOB00001', name: 'bob', realName: 'Bob Example', email: 'bob@example.com' });
  const channel = 'C0SECURITY1';
  sl.state.members.set(channel, new Set(['U0ALICE001']));
  const parent = sl.postAsUser(channel, 'U0ALICE001', 'Starting a task that needs a login');
  const slackThread = `slack:${channel}/${parent.ts}`;
  const slack = createSlackPlatform({
    config: {
      botToken: sl.botToken,
      inbound: { mode: 'events', signingSecret: newSigningSecret() },
      apiUrl: sl.url,
      privateLinks: true,
      dmOutsideChannel: options.slackDmOutsideChannel ?? false,
      codeModal: true,
      outboundPerSecond: 1,
      sharedChannels: 'warn',
    },
    sink: async () => 'accepted',
    now: Date.now,
    logger,
  });

  return {
    github: {
      adapter: github.adapter,
      thread: 'github:octo-org/app#7',
      bodies: () => gh.state.thread('octo-org/app', 7).map((c) => c.body),
    },
    linear: {
      adapter: linear.adapter,
      thread: 'linear:ENG-42',
      bodies: () => lin.store.commentsOf(issue.id).map((c) => c.body),
    },
    slack: {
      adapter: slack.adapter,
      thread: slackThread,
      messages: () => {
        const t = parseSlackThread(slackThread);
        return sl.state.thread(t.channel, t.threadTs).filter((m) => m.botId);
      },
      directMessages: () => sl.state.messages.filter((m) => m.channel.startsWith('D')),
      fake: sl,
    },
    async close() {
      await Promise.all([gh.close(), lin.close(), sl.close()]);
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
