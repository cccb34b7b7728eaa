import type { Clock } from '../../src/core/clock.js';
import { randomBytes } from 'node:crypto';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/fake-slack-api.js';
import { shownText, type FakeEphemeral, type FakeMessage } from '../fakes/slack/fake-slack-state.js';
import {
  newSigningSecret,
  postSignedEvent,
  postSignedInteraction,
  type SignedPostOptions,
} from '../fakes/slack/slack-signing.js';
import { threadReplyEvent, type ThreadReplyOptions } from '../fixtures/slack/slack-fixtures.js';
import { startTestBridge, type TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/** People in the fake workspace. */
export const alice = {
  id: 'U0ALICE001',
  name: 'alice',
  realName: 'Alice Example',
  email: 'alice@example.com',
} as const;
export const mallory = {
  id: 'U0MALLORY1',
  name: 'mallory',
  realName: 'Mallory Example',
  email: 'mallory@example.com',
} as const;
export const bob = {
  id: 'U0BOB00001',
  name: 'bob',
  realName: 'Bob Example',
  displayName: 'bobby',
  email: 'bob@example.com',
} as const;

export interface SlackTestBridge {
  readonly bridge: TestBridge;
  readonly slack: FakeSlack;
  readonly signingSecret: string;
  /** A fresh channel-thread with a parent message by alice; returns its ref. */
  newThread(channel?: string): string;
  /** A signed Events API delivery of `user`'s reply in `thread` to POST /slack/events. */
  reply(
    thread: string,
    user: string,
    text: string,
    options?: SignedPostOptions & Partial<ThreadReplyOptions>,
  ): Promise<{ res: Response; body: Record<string, any> }>;
  /** POSTs any body, signed, to /slack/events. */
  postEvent(body: unknown, options?: SignedPostOptions): Promise<Response>;
  /** POSTs an interaction payload, signed, to /slack/interactivity. */
  postInteraction(payload: unknown, options?: SignedPostOptions): Promise<Response>;
  /** The bot's messages in a thread, as people see them. */
  botTexts(thread: string): string[];
  /** The approval link sent privately to `user` in `thread`, and the handoff id. */
  privateApproval(thread: string, user: string): Promise<{ url: string; handoffId: string; message: FakeEphemeral }>;
  /** The approval request in the thread itself. */
  threadApproval(thread: string): Promise<{ message: FakeMessage; handoffId: string; url?: string }>;
  close(): Promise<void>;
}

/** The value of the "Paste finish code" button in a message's blocks. */
export function pasteButtonValue(blocks: unknown[] | undefined): string {
  for (const block of (blocks ?? []) as Array<{
    type: string;
    elements?: Array<{ action_id?: string; value?: string }>;
  }>) {
    const button = block.elements?.find((e) => e.action_id === 'handoff_paste_code');
    if (button?.value) return button.value;
  }
  throw new Error('the message has no "Paste finish code" button');
}

const approvalUrlPattern = /https?:\/\/[^\s<>|]+\/sandbox\/authorize\/[^\s<>|]+/;
const handoffIdPattern = /hf_[0-9a-f]+/;

/** A bridge with Slack configured against a fake Slack (Events API mode unless `env` says otherwise). */
export async function startSlackTestBridge(
  name: string,
  options: {
    env?: Record<string, string>;
    socketMode?: boolean;
    /** The bridge's clock (tests move it to make timers come due). */
    clock?: Clock;
    /** Prefix, keys and token to share with a second bridge (a restart on the same Redis). */
    shared?: { prefix: string; vaultKey: Buffer; apiToken: string };
    /** Another Redis than the suite's (a Redis Cluster of the test's own). */
    redisUrl?: string;
  } = {},
): Promise<SlackTestBridge> {
  const slack = await startFakeSlack();
  for (const person of [alice, mallory, bob]) slack.addUser(person);
  const signingSecret = newSigningSecret();
  const inbound: Record<string, string> = options.socketMode
    ? { SLACK_APP_TOKEN: slack.appToken }
    : { SLACK_SIGNING_SECRET: signingSecret };
  const bridge = await startTestBridge(name, {
    ...options.shared,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    env: {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.url,
      SLACK_OUTBOUND_PER_SECOND: '20',
      ...inbound,
      ...options.env,
    },
  });
  const eventsUrl = `${bridge.url}/slack/events`;

  const thread = (ref: string) => parseSlackThread(ref);
  return {
    bridge,
    slack,
    signingSecret,
    newThread(channel = `C0${randomBytes(4).toString('hex').toUpperCase()}`) {
      const parent = slack.postAsUser(channel, alice.id, 'Kicking off the nightly report agent');
      return `slack:${channel}/${parent.ts}`;
    },
    async reply(ref, user, text, opts = {}) {
      const t = thread(ref);
      const body = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user,
        text,
        ...(opts.ts ? { ts: opts.ts } : {}),
        ...(opts.eventId ? { eventId: opts.eventId } : {}),
      });
      const message = slack.postAsUser(t.channel, user, text, t.threadTs);
      if (!opts.ts) {
        // The event describes the message that is now in the fake's channel history.
        body.event.ts = message.ts;
        body.event.event_ts = message.ts;
      }
      return { res: await postSignedEvent(eventsUrl, signingSecret, body, opts), body };
    },
    postEvent: (body, opts = {}) => postSignedEvent(eventsUrl, signingSecret, body, opts),
    postInteraction: (payload, opts = {}) =>
      postSignedInteraction(`${bridge.url}/slack/interactivity`, signingSecret, payload, opts),
    botTexts(ref) {
      const t = thread(ref);
      return slack.state
        .thread(t.channel, t.threadTs)
        .filter((m) => m.botId)
        .map(shownText);
    },
    async privateApproval(ref, user) {
      const t = thread(ref);
      const message = await waitFor(`private approval for ${user} in ${ref}`, () =>
        slack.state.ephemeral.find(
          (e) =>
            e.channel === t.channel &&
            e.threadTs === t.threadTs &&
            e.user === user &&
            approvalUrlPattern.test(shownText(e)),
        ),
      );
      const text = shownText(message);
      return { message, url: approvalUrlPattern.exec(text)![0], handoffId: handoffIdPattern.exec(text)![0] };
    },
    async threadApproval(ref) {
      const t = thread(ref);
      const message = await waitFor(`approval request in ${ref}`, () =>
        slack.state
          .thread(t.channel, t.threadTs)
          .find((m) => m.botId && handoffIdPattern.test(shownText(m)) && /Login approval needed/.test(shownText(m))),
      );
      const text = shownText(message);
      const url = approvalUrlPattern.exec(text)?.[0];
      return { message, handoffId: handoffIdPattern.exec(text)![0], ...(url ? { url } : {}) };
    },
    async close() {
      await bridge.close();
      await slack.close();
    },
  };
}
