import type { Clock } from '../../src/core/clock.js';
import { randomBytes } from 'node:crypto';
import { startFakeGithub, type FakeGithub } from '../fakes/github/fake-github-server.js';
import type { FakeComment } from '../fakes/github/fake-github-state.js';
import { deliverWebhook } from '../fakes/github/webhook-sender.js';
import { exampleRepo, issueCommentPayload } from '../fixtures/github/issue-comment.js';
import { startTestBridge, type TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/**
 * A bridge with GitHub configured against a fake GitHub: the example repository of the
 * webhook fixtures (private, issues 1–50; Codertocat admin, alice write, rita read), and a
 * public repository. Options choose webhooks, polling, and token or App auth.
 */
export interface GithubWorld {
  readonly fake: FakeGithub;
  readonly bridge: TestBridge;
  readonly secret: string;
  /** Lower-case key of the example repository, as the fake stores it. */
  readonly repoKey: string;
  /** A thread in the example repository: `github:Codertocat/Hello-World#<n>`. */
  thread(issue: number): string;
  /** The bridge's approval comment in an issue, once posted; with the link it carries. */
  approvalIn(issue: number): Promise<{ comment: FakeComment; url: string; handoffId: string }>;
  /** The bridge's comments in an issue. */
  botComments(issue: number): FakeComment[];
  /** A person comments in an issue (in the fake) and, unless `webhook` is false, GitHub delivers it. */
  comment(
    issue: number,
    login: string,
    body: string,
    options?: { webhook?: boolean; deliveryId?: string },
  ): Promise<{ comment: FakeComment; status: number; ack: unknown }>;
  close(): Promise<void>;
}

export async function startGithubWorld(
  name: string,
  options: {
    webhooks?: boolean;
    polling?: boolean;
    pollIntervalMs?: number;
    env?: Record<string, string>;
    app?: boolean;
    clock?: Clock;
    /** Another Redis than the suite's (a Redis Cluster of the test's own). */
    redisUrl?: string;
  } = {},
): Promise<GithubWorld> {
  const fake = await startFakeGithub();
  fake.state.addRepo(exampleRepo, {
    private: true,
    issues: Array.from({ length: 50 }, (_, i) => i + 1),
    collaborators: { Codertocat: 'admin', alice: 'write', rita: 'read' },
  });
  fake.state.addRepo('octo-org/public-site', { private: false, issues: [1] });
  const secret = `whsec-${randomBytes(16).toString('hex')}`;
  const auth: Record<string, string> = options.app
    ? { GITHUB_APP_ID: '4242', GITHUB_APP_PRIVATE_KEY: fake.enableApp(4242) }
    : { GITHUB_TOKEN: fake.auth.addToken('handoff-bot') };
  const bridge = await startTestBridge(name, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    env: {
      ...auth,
      GITHUB_API_URL: fake.url,
      // Only an answer in the thread may finish a login: no background poll of the service.
      HANDOFF_POLL_INTERVAL_MS: '600000',
      ...(options.webhooks === false ? {} : { GITHUB_WEBHOOK_SECRET: secret }),
      GITHUB_POLLING: options.polling ? 'true' : 'false',
      ...(options.pollIntervalMs ? { GITHUB_POLL_INTERVAL_MS: String(options.pollIntervalMs) } : {}),
      ...options.env,
    },
  });
  const repoKey = exampleRepo.toLowerCase();
  const botComments = (issue: number) =>
    fake.state.thread(repoKey, issue).filter((c) => c.body.includes('<!-- handoff-bridge -->'));
  return {
    fake,
    bridge,
    secret,
    repoKey,
    thread: (issue) => `github:${exampleRepo}#${issue}`,
    botComments,
    async approvalIn(issue) {
      const comment = await waitFor(`approval comment in issue ${issue}`, () =>
        botComments(issue).find((c) => /\/sandbox\/authorize\//.test(c.body)),
      );
      const url = /https?:\/\/[^\s>)]+\/sandbox\/authorize\/[^\s>)]+/.exec(comment.body)![0];
      const handoffId = /Handoff `(hf_[0-9a-f]+)`/.exec(comment.body)![1]!;
      return { comment, url, handoffId };
    },
    async comment(issue, login, body, opts = {}) {
      const comment = fake.state.addComment(repoKey, issue, login, body);
      if (opts.webhook === false) return { comment, status: 0, ack: undefined };
      const payload = issueCommentPayload({ commentId: comment.id, issueNumber: issue, body, login });
      const res = await deliverWebhook(bridge.url, {
        event: 'issue_comment',
        payload,
        secret,
        ...(opts.deliveryId ? { deliveryId: opts.deliveryId } : {}),
      });
      return { comment, status: res.status, ack: (res.body as { ack?: unknown } | undefined)?.ack };
    },
    async close() {
      await bridge.close();
      await fake.close();
    },
  };
}
