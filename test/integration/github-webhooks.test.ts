import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundJobId } from '../../src/queue/inbound-intake.js';
import { deliverWebhook } from '../fakes/github/webhook-sender.js';
import { issueCommentPayload } from '../fixtures/github/issue-comment.js';
import { startTestAgent } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { waitFor } from '../helpers/wait.js';

/**
 * GitHub through webhooks only (polling off): the real bridge, real BullMQ workers and the
 * real Octokit against the fake GitHub; deliveries are the @octokit/webhooks-examples
 * payloads, signed as GitHub signs them.
 */
describe('GitHub threads by webhook', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    world = await startGithubWorld('gh-webhooks', { webhooks: true, polling: false });
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  const exchangesFor = (url: string) => world.bridge.sandbox!.state.successfulExchanges.get(url.split('/').pop()!) ?? 0;
  const inboundJobs = async () => {
    const counts = await world.bridge.bridge.queues.inbound.getJobCounts(
      'wait',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  it('finishes a handoff: approval comment, code by webhook, agent resumed, code comment deleted', async () => {
    const job = await agent.run(world.thread(1), []);
    const { comment: approval, url, handoffId } = await world.approvalIn(1);
    expect(approval.body).toContain('Only people with write access to this repository may answer.');
    const code = await world.bridge.approve(url);

    const sent = await world.comment(1, 'Codertocat', `Here it is: \`${code}\`.`);
    expect(sent).toMatchObject({ status: 202, ack: 'accepted' });

    const result = await job.waitUntilFinished(agent.events, 30_000);
    expect(result).toMatchObject({ status: 200, handoffId });
    await waitFor('the code comment deleted', () => world.fake.state.comments.get(sent.comment.id)!.deleted);
    const texts = world.fake.state.thread(world.repoKey, 1).map((c) => c.body);
    expect(texts.find((t) => t.includes('✅ Logged in'))).toContain('removed from this thread');
    expect(texts.join('\n')).not.toContain(code);
    // The outbound worker audits right after the deletion: wait for the entry, not the comment.
    const redacted = await waitFor('the redaction audited', async () =>
      (await world.bridge.bridge.engine.audit.recent(50, handoffId)).find((e) => e.event === 'reply.redacted'),
    );
    expect(redacted.detail).toMatchObject({ outcome: 'deleted', platform: 'github' });
    expect(world.bridge.logs.join('\n')).not.toContain(code);
  });

  it('processes duplicate deliveries once', async () => {
    const job = await agent.run(world.thread(2), ['alice']);
    const { url } = await world.approvalIn(2);
    const code = await world.bridge.approve(url);
    const comment = world.fake.state.addComment(world.repoKey, 2, 'alice', code);
    const payload = issueCommentPayload({ commentId: comment.id, issueNumber: 2, body: code, login: 'alice' });
    const delivery = {
      event: 'issue_comment',
      payload,
      secret: world.secret,
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    };
    // GitHub redelivers with the same x-github-delivery; here three at once, then one more
    // delivery of the same comment under a new id.
    const acks = await Promise.all([1, 2, 3].map(() => deliverWebhook(world.bridge.url, delivery)));
    expect(acks.map((a) => (a.body as { ack: string }).ack).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    const again = await deliverWebhook(world.bridge.url, {
      ...delivery,
      deliveryId: 'a0b1c2d3-0000-4000-8000-000000000001',
    });
    expect(again.body).toEqual({ ack: 'duplicate' });

    await job.waitUntilFinished(agent.events, 30_000);
    // The outbound queue posts at most one comment a second: wait for the notice, then for
    // anything a stray duplicate might still add.
    await waitFor('completion notice', () => world.botComments(2).find((c) => c.body.includes('✅')));
    await waitFor('code comment deleted', () => world.fake.state.comments.get(comment.id)!.deleted);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(exchangesFor(url)).toBe(1);
    expect(world.botComments(2).filter((c) => c.body.includes('✅')).length).toBe(1);
  });

  it('answers a bad or missing signature with 401 (missing headers 400) and enqueues nothing', async () => {
    const before = await inboundJobs();
    const comment = world.fake.state.addComment(world.repoKey, 3, 'alice', 'aae_' + 'ab'.repeat(24));
    const payload = issueCommentPayload({ commentId: comment.id, issueNumber: 3, body: comment.body, login: 'alice' });
    const base = { event: 'issue_comment', payload, secret: world.secret };
    expect((await deliverWebhook(world.bridge.url, { ...base, signature: `sha256=${'0'.repeat(64)}` })).status).toBe(
      401,
    );
    expect((await deliverWebhook(world.bridge.url, { ...base, secret: 'not-the-webhook-secret' })).status).toBe(401);
    expect((await deliverWebhook(world.bridge.url, { ...base, signature: null })).status).toBe(401);
    const noEvent = await fetch(`${world.bridge.url}/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noEvent.status).toBe(400);
    expect(
      await world.bridge.bridge.queues.inbound.getJob(
        inboundJobId({
          platform: 'github',
          messageRef: { platform: 'github', thread: world.thread(3), id: String(comment.id) },
        }),
      ),
    ).toBeUndefined();
    expect(await inboundJobs()).toBe(before);
  });

  it('ignores edits, its own comments, and events other than issue comments', async () => {
    const own = world.fake.state.addComment(
      world.repoKey,
      4,
      'handoff-bot',
      '<!-- handoff-bridge -->\nApprove here: https://x.example/authorize/1',
    );
    const send = (payload: unknown, event = 'issue_comment') =>
      deliverWebhook(world.bridge.url, { event, payload, secret: world.secret });
    expect(
      (await send(issueCommentPayload({ commentId: own.id, issueNumber: 4, body: own.body, login: 'handoff-bot' })))
        .body,
    ).toEqual({ ignored: 'own_comment' });
    expect(
      (
        await send(
          issueCommentPayload({ action: 'edited', commentId: 991, issueNumber: 4, body: 'edited', login: 'alice' }),
        )
      ).body,
    ).toEqual({ ignored: 'action' });
    expect((await send({ zen: 'Keep it logically awesome.', hook_id: 1 }, 'ping')).status).toBe(200);
    expect((await send({ action: 'opened' }, 'issues')).body).toEqual({ ignored: 'event' });
  });

  it('refuses a commenter without write access, then takes the answer of one with it', async () => {
    const job = await agent.run(world.thread(5), []);
    const { url, handoffId } = await world.approvalIn(5);
    const code = await world.bridge.approve(url);
    await world.comment(5, 'rita', code);
    const refusal = await waitFor('refusal', () =>
      world.botComments(5).find((c) => c.body.includes('`rita`, you cannot answer')),
    );
    expect(refusal.body).toContain('Only people with write access to `codertocat/hello-world` may answer.');
    // The refused commenter is named, never @-mentioned.
    expect(refusal.body).not.toContain('@rita');
    const record = await world.bridge.api.getHandoff(handoffId);
    expect(record).toMatchObject({ status: 'awaiting_human', attempts: 0 });
    expect(exchangesFor(url)).toBe(0);
    // The refusal rests on the permission API, not on the payload's author_association (OWNER).
    expect(world.fake.count((r) => r.path.endsWith('/collaborators/rita/permission'))).toBe(1);

    await world.comment(5, 'alice', code);
    await job.waitUntilFinished(agent.events, 30_000);
    expect((await world.bridge.api.getHandoff(handoffId)).status).toBe('completed');
  });

  it('refuses to post an approval link into a public repository (public_thread)', async () => {
    const created = await world.bridge.api.createHandoff({
      service: `${world.bridge.url}/sandbox`,
      thread: 'github:octo-org/public-site#1',
      agent: { id: 'agent-public' },
    });
    const done = await waitFor('failed handoff', async () => {
      const view = await world.bridge.api.getHandoff(created.id);
      return view.status === 'failed' ? view : undefined;
    });
    expect(done.error?.code).toBe('public_thread');
    expect(done.error?.message).toContain('GITHUB_ALLOW_PUBLIC_REPOS=true');
    expect(world.fake.state.thread('octo-org/public-site', 1)).toEqual([]);
  });

  it('fails a handoff whose named approver is not a GitHub login, before posting anything', async () => {
    const created = await world.bridge.api.createHandoff({
      service: `${world.bridge.url}/sandbox`,
      thread: world.thread(7),
      agent: { id: 'agent-x' },
      approvers: ['no-such-login-4711'],
    });
    const done = await waitFor('failed handoff', async () => {
      const view = await world.bridge.api.getHandoff(created.id);
      return view.status === 'failed' ? view : undefined;
    });
    expect(done.error).toMatchObject({ code: 'unknown_approver' });
    expect(world.fake.state.thread(world.repoKey, 7)).toEqual([]);
  });

  it('hides the code comment when it may not delete it, and says so in the thread', async () => {
    world.fake.canDelete = false;
    try {
      const job = await agent.run(world.thread(6), ['alice']);
      const { url, handoffId } = await world.approvalIn(6);
      const sent = await world.comment(6, 'alice', await world.bridge.approve(url));
      await job.waitUntilFinished(agent.events, 30_000);
      await waitFor('the code comment minimized', () => world.fake.state.comments.get(sent.comment.id)!.minimized);
      expect(world.fake.state.comments.get(sent.comment.id)!.deleted).toBe(false);
      await waitFor('the notice about hiding', () =>
        world.botComments(6).find((c) => c.body.includes('hidden as resolved')),
      );
      const redacted = await waitFor('redaction audited', async () =>
        (await world.bridge.bridge.engine.audit.recent(50, handoffId)).find((e) => e.event === 'reply.redacted'),
      );
      expect(redacted.detail).toMatchObject({ outcome: 'hidden' });
    } finally {
      world.fake.canDelete = true;
    }
  });
});
