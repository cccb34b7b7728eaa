import { randomBytes } from 'node:crypto';
import type { FakeComment, FakeIssue, FakeUser } from '../fakes/linear/fake-linear-store.js';
import { startFakeLinear, type FakeLinear } from '../fakes/linear/fake-linear-server.js';
import { commentCreatedPayload, deliverWebhook, signLinearWebhook } from '../fakes/linear/linear-webhooks.js';
import { startTestAgent } from './agent.js';
import { startTestBridge, type TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/**
 * A test bridge configured for Linear through its environment (as `handoff serve` would be),
 * talking to an in-process fake Linear API, with the example agent beside it and a few
 * people and issues in the fake workspace.
 */
export interface LinearTestSetup {
  readonly fake: FakeLinear;
  readonly bridge: TestBridge;
  readonly agent: Awaited<ReturnType<typeof startTestAgent>>;
  readonly webhookSecret: string;
  readonly alice: FakeUser;
  readonly bob: FakeUser;
  readonly mallory: FakeUser;
  /** A new issue assigned to alice, created by bob. */
  newIssue(): FakeIssue;
  /** Waits for the approval comment on the issue; returns it with its link and handoff id. */
  approvalOn(issue: FakeIssue): Promise<{ comment: FakeComment; url: string; handoffId: string }>;
  /** A person's comment in the fake workspace (not yet delivered anywhere). */
  comment(issue: FakeIssue, user: FakeUser, body: string, parentId?: string): FakeComment;
  /** Delivers the comment's `create` webhook, signed with the bridge's secret. */
  deliver(
    comment: FakeComment,
    options?: { deliveryId?: string; timestamp?: number; signature?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The bridge's own comments on the issue, oldest first. */
  botComments(issue: FakeIssue): FakeComment[];
  close(): Promise<void>;
}

let issueNumber = 100;

export async function startLinearTestBridge(
  name: string,
  options: {
    inbound?: 'webhook' | 'poll' | 'both';
    pollIntervalMs?: number;
    viewerAdmin?: boolean;
    /** Another Redis than the suite's (a Redis Cluster of the test's own). */
    redisUrl?: string;
  } = {},
): Promise<LinearTestSetup> {
  const apiKey = `lin_api_${randomBytes(20).toString('hex')}`;
  const webhookSecret = `lin_wh_${randomBytes(20).toString('hex')}`;
  const fake = await startFakeLinear({ auth: apiKey, viewer: { admin: options.viewerAdmin ?? true } });
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const bob = fake.store.addUser({ name: 'Bob Builder', displayName: 'bob' });
  const mallory = fake.store.addUser({ name: 'Mallory Intruder', displayName: 'mallory' });
  const inbound = options.inbound ?? 'webhook';
  const env: Record<string, string> = {
    LINEAR_API_KEY: apiKey,
    LINEAR_API_URL: fake.url,
    ...(inbound !== 'poll' ? { LINEAR_WEBHOOK_SECRET: webhookSecret } : {}),
    ...(inbound !== 'webhook'
      ? { LINEAR_POLL: 'on', LINEAR_POLL_INTERVAL_MS: String(options.pollIntervalMs ?? 2_000) }
      : { LINEAR_POLL: 'off' }),
  };
  const bridge = await startTestBridge(name, { env, ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}) });
  const agent = await startTestAgent(bridge);

  return {
    fake,
    bridge,
    agent,
    webhookSecret,
    alice,
    bob,
    mallory,
    newIssue: () =>
      fake.store.addIssue({ identifier: `ENG-${issueNumber++}`, assigneeId: alice.id, creatorId: bob.id }),
    async approvalOn(issue) {
      const comment = await waitFor(`approval comment on ${issue.identifier}`, () =>
        fake.store
          .commentsOf(issue.id)
          .find((c) => c.userId === fake.viewer.id && /\/sandbox\/authorize\//.test(c.body)),
      );
      const url = /\]\(<(https?:\/\/[^>\s]+\/sandbox\/authorize\/[^>\s]+)>\)/.exec(comment.body)![1]!;
      const handoffId = /handoff `(hf_[0-9a-f]+)`/.exec(comment.body)![1]!;
      return { comment, url, handoffId };
    },
    comment: (issue, user, body, parentId) =>
      fake.store.addComment({ issueId: issue.id, userId: user.id, body, ...(parentId ? { parentId } : {}) }),
    deliver: (comment, hookOptions = {}) =>
      deliverWebhook(
        bridge.url,
        signLinearWebhook(webhookSecret, commentCreatedPayload(fake.store, comment), hookOptions),
      ),
    botComments: (issue) => fake.store.commentsOf(issue.id).filter((c) => c.userId === fake.viewer.id),
    async close() {
      await agent.close();
      await bridge.close();
      await fake.close();
    },
  };
}
