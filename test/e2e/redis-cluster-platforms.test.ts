import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { queueKey, queueNames } from '../../src/queue/queue-names.js';
import { scanKeys, type Redis } from '../../src/store/redis.js';
import { deliverWebhook as deliverGithubWebhook } from '../fakes/github/webhook-sender.js';
import { commentCreatedPayload, deliverWebhook, signLinearWebhook } from '../fakes/linear/linear-webhooks.js';
import { issueCommentPayload } from '../fixtures/github/issue-comment.js';
import { createTestAgent } from '../helpers/agents.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { startLinearTestBridge, type LinearTestSetup } from '../helpers/linear-bridge.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { slackApprovalClicks } from '../helpers/slack-approval-clicks.js';
import { alice, bob, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import type { TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The platform flows on a real Redis Cluster of three masters (issue #16 item 6), one cluster
 * for the file and one bridge per platform on it: Slack (signed Events API deliveries and
 * interactivity clicks, the official WebClient against the fake Slack), GitHub (signed webhooks
 * and the repository poll, Octokit against the fake) and Linear (signed webhooks and the poll,
 * @linear/sdk against the fake). Each platform finishes a login and decides an approval; a
 * redelivered reply is taken once (the `{hf}` dedupe), a reply no webhook carried is read by the
 * poller (`{poll:<platform>}`), and every message goes out through the platform's own queue
 * (`{outbound-<platform>}`), each its own slot.
 */
describe('Slack, GitHub and Linear bridges on a Redis Cluster of three masters', () => {
  let cluster: RedisCluster;
  let redis: Redis;
  let slack: SlackTestBridge;
  let github: GithubWorld;
  let linear: LinearTestSetup;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = cluster.connect();
    const redisUrl = cluster.url;
    [slack, github, linear] = await Promise.all([
      startSlackTestBridge('cl-slack', { redisUrl }),
      startGithubWorld('cl-github', { webhooks: true, polling: true, pollIntervalMs: 1_000, redisUrl }),
      startLinearTestBridge('cl-linear', { inbound: 'both', pollIntervalMs: 2_000, redisUrl }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([slack?.close(), github?.close(), linear?.close()]);
    await cluster?.stop();
  });

  const exchanges = (bridge: TestBridge, approvalUrl: string) =>
    bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;
  const status = async (bridge: TestBridge, id: string) => (await bridge.api.getHandoff(id)).status;
  const completed = (bridge: TestBridge, id: string) =>
    waitFor(`${id} completed`, async () => (await status(bridge, id)) === 'completed', 20_000);
  const decision = (bridge: TestBridge, id: string) =>
    waitFor('the decision', async () => (await bridge.api.getApproval(id)).decision ?? undefined, 20_000);

  it('Slack: a login finished by a signed reply, taken once however often Slack delivers it', async () => {
    const { bridge } = slack;
    const thread = slack.newThread();
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: [alice.id],
      agent: { id: 'cl-slack-agent' },
    });
    const approval = await slack.privateApproval(thread, alice.id);
    expect(approval.handoffId).toBe(created.id);
    const code = await bridge.approve(approval.url);

    const first = await slack.reply(thread, alice.id, `finish code: \`${code}\``);
    const retries = await Promise.all([
      slack.postEvent(first.body, { retryNum: 1 }),
      slack.postEvent(first.body, { retryNum: 1 }),
      // The same message under another event id (a second subscription).
      slack.postEvent({ ...first.body, event_id: 'Ev0CLUSTER01' }),
    ]);
    expect([first.res, ...retries].map((r) => r.status)).toEqual([200, 200, 200, 200]);

    await completed(bridge, created.id);
    await waitFor('the success notice', () => slack.botTexts(thread).find((t) => t.startsWith('✅')));
    await waitFor('the inbound queue idle', async () => {
      const counts = await bridge.bridge.queues.inbound.getJobCounts('waiting', 'active', 'delayed');
      return Object.values(counts).every((n) => n === 0);
    });
    expect(exchanges(bridge, approval.url)).toBe(1);
    expect(slack.botTexts(thread).filter((t) => t.startsWith('✅'))).toHaveLength(1);
    const audit = await bridge.bridge.engine.audit.recent(50, created.id);
    expect(audit.filter((e) => e.event === 'reply.accepted')).toHaveLength(1);
  });

  it('Slack: an Approve button click decides an approval; its replay is dropped, a later click told who decided', async () => {
    const agent = await createTestAgent(slack.bridge, 'cl-slack-buttons');
    const c = slackApprovalClicks(slack, agent, 'http');
    const thread = slack.newThread();
    const id = await c.ask(thread);
    const message = await c.requestMessage(thread, id);
    const click = c.clickOf('approve', message, bob);
    expect(await c.send(click)).toEqual({ status: 200, body: undefined });
    const done = await c.settled(id);
    expect(done).toMatchObject({ status: 'completed', decision: { outcome: 'approved', by: [{ who: bob.id }] } });
    await waitFor('the settled notice', () => slack.botTexts(thread).find((t) => /✅ Approved by/.test(t)));

    // Slack retrying the same click is dropped by the dedupe; a new click is told who decided.
    expect((await c.send(click)).status).toBe(200);
    await c.send(c.clickOf('approve', message, alice));
    await c.answerTo(thread, alice, /already approved by/);
    expect(c.answersTo(thread, bob, /./)).toEqual([]);
    const votes = (await slack.bridge.bridge.engine.audit.recent(200, id)).filter((e) => e.event === 'approval.vote');
    expect(votes.filter((e) => e.actor === bob.id)).toHaveLength(1);
    expect((await c.view(id)).decision.by).toEqual([expect.objectContaining({ who: bob.id })]);
  });

  it('GitHub: a login finished by a signed webhook, redelivered three times at once and taken once', async () => {
    const { bridge } = github;
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: github.thread(5),
      approvers: ['alice'],
      agent: { id: 'cl-github-agent' },
    });
    const approval = await github.approvalIn(5);
    expect(approval.handoffId).toBe(created.id);
    const code = await bridge.approve(approval.url);
    const comment = github.fake.state.addComment(github.repoKey, 5, 'alice', code);
    const delivery = {
      event: 'issue_comment',
      payload: issueCommentPayload({ commentId: comment.id, issueNumber: 5, body: code, login: 'alice' }),
      secret: github.secret,
      deliveryId: 'c1a55e7e-0000-4000-8000-000000000005',
    };
    const acks = await Promise.all([1, 2, 3].map(() => deliverGithubWebhook(bridge.url, delivery)));
    expect(acks.map((a) => (a.body as { ack: string }).ack).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);

    await completed(bridge, created.id);
    await waitFor('the completion notice', () => github.botComments(5).find((c) => c.body.includes('✅')));
    // The poller reads the same comment from the repository too: still one exchange, one notice.
    await waitFor('the code comment deleted', () => github.fake.state.comments.get(comment.id)!.deleted);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(exchanges(bridge, approval.url)).toBe(1);
    expect(github.botComments(5).filter((c) => c.body.includes('✅'))).toHaveLength(1);
  });

  it('GitHub: an approval decided by a comment only the repository poll sees', async () => {
    const { bridge } = github;
    const created = await bridge.api.createApproval({
      thread: github.thread(6),
      agent: { id: 'cl-github-agent' },
      action: { title: 'Merge the release branch' },
    });
    await waitFor('the request comment', () => github.botComments(6).find((c) => c.body.includes('🛂')));
    await github.comment(6, 'alice', '/approve', { webhook: false });
    expect(await decision(bridge, created.id)).toMatchObject({ outcome: 'approved', by: [{ who: 'alice' }] });
    await waitFor('the outcome in the request', () => github.botComments(6).find((c) => c.body.includes('Approved')));
  });

  it('Linear: a login finished by a signed webhook, redelivered and taken once', async () => {
    const issue = linear.newIssue();
    const job = await linear.agent.run(`linear:${issue.identifier}`, []);
    const approval = await linear.approvalOn(issue);
    const code = await linear.bridge.approve(approval.url);
    const reply = linear.comment(issue, linear.alice, code, approval.comment.id);
    const hook = signLinearWebhook(linear.webhookSecret, commentCreatedPayload(linear.fake.store, reply));
    const answers = await Promise.all([1, 2, 3].map(() => deliverWebhook(linear.bridge.url, hook)));
    expect(answers.map((a) => a.body.ack).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);

    const result = await job.waitUntilFinished(linear.agent.events, 20_000);
    expect(result).toMatchObject({ status: 200, handoffId: approval.handoffId });
    await waitFor('the success notice', () => linear.botComments(issue).some((c) => c.body.startsWith('✅')));
    await new Promise((r) => setTimeout(r, 2_500)); // one more poll reads the same comment again
    expect(exchanges(linear.bridge, approval.url)).toBe(1);
    expect(linear.botComments(issue).filter((c) => c.body.startsWith('✅'))).toHaveLength(1);
  });

  it('Linear: an approval decided by a reply only the poll sees', async () => {
    const issue = linear.newIssue();
    const created = await linear.bridge.api.createApproval({
      thread: `linear:${issue.identifier}`,
      agent: { id: 'cl-linear-agent' },
      action: { title: 'Close the sprint' },
    });
    const request = await waitFor('the request comment', () =>
      linear.botComments(issue).find((c) => c.body.includes('🛂')),
    );
    linear.comment(issue, linear.alice, 'approve', request.id);
    expect(await decision(linear.bridge, created.id)).toMatchObject({ outcome: 'approved' });
  });

  it('the keys those flows wrote are on the cluster: dedupe in {hf}, poll schedules, one outbound queue per platform', async () => {
    const slot = async (key: string) => Number(await redis.cluster('KEYSLOT', key));
    const outboundSlots = new Set<number>();
    for (const [platform, bridge] of [
      ['slack', slack.bridge],
      ['github', github.bridge],
      ['linear', linear.bridge],
    ] as const) {
      const keys = createKeys(bridge.prefix);
      // Every message went out through the platform's queue: its job counter is on the cluster.
      const jobCounter = queueKey(keys.queuePrefix, queueNames.outbound(platform), 'id');
      expect(Number(await redis.get(jobCounter)), `${platform} outbound jobs`).toBeGreaterThan(0);
      outboundSlots.add(await slot(jobCounter));
      // The dedupe markers of the replies taken, in the handoffs' slot.
      const seen: string[] = [];
      for await (const page of scanKeys(redis, keys.seen(platform, 'delivery', '*'))) seen.push(...page);
      expect(seen.length, `${platform} dedupe markers`).toBeGreaterThan(0);
      expect(new Set(await Promise.all(seen.map(slot)))).toEqual(new Set([await slot(keys.handoff('x'))]));
      // Nothing failed for want of a slot.
      expect(bridge.logs.filter((l) => /CROSSSLOT|MOVED|ASK |failed/.test(l))).toEqual([]);
    }
    expect(outboundSlots.size).toBe(3);
    for (const [platform, bridge] of [
      ['github', github.bridge],
      ['linear', linear.bridge],
    ] as const) {
      const due = await redis.hgetall(createKeys(bridge.prefix).pollDue(platform));
      expect(Object.keys(due).length, `${platform} poll scopes`).toBeGreaterThan(0);
      expect(Object.values(due).every((t) => Number(t) > 0)).toBe(true);
    }
  });
});
