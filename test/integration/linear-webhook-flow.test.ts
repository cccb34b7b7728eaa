import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commentCreatedPayload, deliverWebhook, signLinearWebhook } from '../fakes/linear/linear-webhooks.js';
import { startLinearTestBridge, type LinearTestSetup } from '../helpers/linear-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Linear handoffs end to end through webhooks: the real bridge (config from env), the real
 * BullMQ workers and Redis, the real LinearClient against the fake Linear API, the sandbox
 * service, and webhooks signed the way Linear signs them.
 */
describe('Linear handoffs through webhooks', () => {
  let t: LinearTestSetup;
  beforeAll(async () => {
    t = await startLinearTestBridge('linear-hooks');
  });
  afterAll(async () => t?.close());

  const exchangesFor = (approvalUrl: string) =>
    t.bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;
  const bridgeIdle = async () => {
    const { queues } = t.bridge.bridge;
    for (const queue of [queues.inbound, queues.outbound('linear')]) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  };
  const reactionsOn = (commentId: string) =>
    t.fake.requests
      .filter(
        (r) => r.field === 'reactionCreate' && (r.variables.input as { commentId: string }).commentId === commentId,
      )
      .map((r) => (r.variables.input as { emoji: string }).emoji);

  it('finishes a login from a reply: approval comment, answer, agent resumed, code deleted, notices threaded', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier.toLowerCase()}`, []);
    const approval = await t.approvalOn(issue);
    expect(approval.comment.parentId).toBeUndefined();
    expect(approval.comment.body).toContain("Only this issue's assignee (`alice`) or creator (`bob`) may answer.");
    expect(approval.comment.body).toMatch(/Expires at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

    const code = await t.bridge.approve(approval.url);
    const reply = t.comment(issue, t.alice, `Agent Analytics finish code: \`${code}\`.`, approval.comment.id);
    const delivered = await t.deliver(reply);
    expect(delivered).toEqual({ status: 200, body: { ok: true, ack: 'accepted' } });

    const result = await job.waitUntilFinished(t.agent.events, 20_000);
    expect(result.status).toBe(200);
    expect(exchangesFor(approval.url)).toBe(1);

    // The comment that carried the code is gone; the thread says so, under the approval.
    await waitFor('the code comment deleted', () => !t.fake.store.comments.has(reply.id));
    const done = await waitFor('success notice', () => t.botComments(issue).find((c) => c.body.startsWith('✅')));
    expect(done.parentId).toBe(approval.comment.id);
    expect(done.body).toContain('was removed from this thread');
    expect(
      t.fake.store
        .commentsOf(issue.id)
        .map((c) => c.body)
        .join('\n'),
    ).not.toContain(code);
    // A quick claim shows its outcome alone; 👀 comes only when the answer is slow (seen-reaction.ts).
    await waitFor('the ok reaction', () => reactionsOn(reply.id).includes('✅'));
    const audit = await t.bridge.bridge.engine.audit.recent(20, result.handoffId);
    expect(audit.find((e) => e.event === 'reply.redacted')?.detail).toMatchObject({
      outcome: 'deleted',
      platform: 'linear',
    });
  });

  it('processes duplicate deliveries once: one exchange, one resume', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const code = await t.bridge.approve(approval.url);
    const reply = t.comment(issue, t.alice, code, approval.comment.id);
    const hook = signLinearWebhook(t.webhookSecret, commentCreatedPayload(t.fake.store, reply));
    const resumedBefore = t.agent.resumedCount();

    // Linear retrying one delivery (same linear-delivery), three times at once...
    const answers = await Promise.all([1, 2, 3].map(() => deliverWebhook(t.bridge.url, hook)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.body.ack).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    // ...and the same comment arriving again under a new delivery id.
    expect((await t.deliver(reply)).body.ack).toBe('duplicate');

    await job.waitUntilFinished(t.agent.events, 20_000);
    // The success notice is posted after the agent resumes; once it is there and the bridge has
    // no inbound or outbound work left, a duplicate processed late would have shown by now.
    await waitFor('the success notice', () => t.botComments(issue).some((c) => c.body.startsWith('✅')));
    await waitFor('the bridge idle', bridgeIdle);
    expect(exchangesFor(approval.url)).toBe(1);
    expect(t.agent.resumedCount() - resumedBefore).toBe(1);
    expect(t.botComments(issue).filter((c) => c.body.startsWith('✅'))).toHaveLength(1);
  });

  it('rejects a bad signature, a stale timestamp and a missing signature without queueing anything', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const code = await t.bridge.approve(approval.url);
    const reply = t.comment(issue, t.alice, code, approval.comment.id);
    const deliveryId = 'a5b8c0de-0000-4000-8000-000000000001';

    const forged = signLinearWebhook(`lin_wh_${'f'.repeat(40)}`, commentCreatedPayload(t.fake.store, reply), {
      deliveryId,
    });
    expect(await deliverWebhook(t.bridge.url, forged)).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_signature' } },
    });
    const stale = await t.deliver(reply, { deliveryId, timestamp: Date.now() - 5 * 60_000 });
    expect(stale).toMatchObject({ status: 401, body: { error: { code: 'stale_webhook' } } });
    const { 'linear-signature': _dropped, ...unsigned } = forged.headers;
    const res = await fetch(`${t.bridge.url}/linear/webhooks`, {
      method: 'POST',
      headers: unsigned,
      body: forged.body,
    });
    expect(res.status).toBe(400);

    await new Promise((r) => setTimeout(r, 300));
    expect((await t.bridge.api.getHandoff(approval.handoffId)).status).toBe('awaiting_human');
    expect(reactionsOn(reply.id)).toEqual([]);
    // A rejected delivery spends nothing: the genuine one with the same id still counts.
    expect((await t.deliver(reply, { deliveryId })).body.ack).toBe('accepted');
    expect((await job.waitUntilFinished(t.agent.events, 20_000)).status).toBe(200);
  });

  it('refuses a reply from someone who is neither the assignee nor the creator, then takes the creator’s', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const code = await t.bridge.approve(approval.url);
    await t.deliver(t.comment(issue, t.mallory, code, approval.comment.id));

    const refusal = await waitFor('refusal notice', () =>
      t.botComments(issue).find((c) => c.body.startsWith('`Mallory Intruder`, you cannot answer')),
    );
    expect(refusal.body).toContain("Only this issue's assignee (`alice`) or creator (`bob`) may answer.");
    expect(refusal.parentId).toBe(approval.comment.id);
    const record = await t.bridge.api.getHandoff(approval.handoffId);
    expect(record.status).toBe('awaiting_human');
    expect(record.attempts).toBe(0);
    expect(exchangesFor(approval.url)).toBe(0);
    const audit = await t.bridge.bridge.engine.audit.recent(20, approval.handoffId);
    expect(audit.find((e) => e.event === 'reply.refused')?.actor).toBe(t.mallory.id);

    await t.deliver(t.comment(issue, t.bob, code));
    expect((await job.waitUntilFinished(t.agent.events, 20_000)).status).toBe(200);
  });

  it('resolves an approver named by email to the Linear user and keeps the email to check who approved', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, ['Alice@Example.com']);
    const approval = await t.approvalOn(issue);
    expect(approval.comment.body).toContain('Only `alice` may answer.');
    const record = (await t.bridge.bridge.engine.store.get(approval.handoffId))!;
    expect(record.approvers).toEqual([t.alice.id]);
    // Kept to match whom a service says approved; agent sessions never send it anywhere.
    expect(record.approverEmails).toEqual([t.alice.email.toLowerCase()]);
    expect(record.approverEmail).toBeUndefined();

    // Named approvers replace the issue rule: the creator is refused.
    const code = await t.bridge.approve(approval.url);
    await t.deliver(t.comment(issue, t.bob, code, approval.comment.id));
    await waitFor('refusal of bob', () =>
      t.botComments(issue).find((c) => c.body.startsWith('`Bob Builder`, you cannot answer')),
    );
    await t.deliver(t.comment(issue, t.alice, code, approval.comment.id));
    expect((await job.waitUntilFinished(t.agent.events, 20_000)).status).toBe(200);
  });

  it('ignores its own comments, apps, edits and issues it never posted on', async () => {
    const issue = t.newIssue();
    await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const ignored = async (payload: Record<string, unknown>) =>
      (await deliverWebhook(t.bridge.url, signLinearWebhook(t.webhookSecret, payload))).body.ignored;

    expect(await ignored(commentCreatedPayload(t.fake.store, approval.comment))).toMatch(/own comment/);
    const bot = t.fake.store.addComment({ issueId: issue.id, body: 'Synced from Slack', bot: true });
    expect(await ignored(commentCreatedPayload(t.fake.store, bot))).toMatch(/app, integration/);
    const edited = t.comment(issue, t.alice, 'edited text', approval.comment.id);
    expect(await ignored(commentCreatedPayload(t.fake.store, edited, 'update'))).toBe('action update');
    const elsewhere = t.newIssue();
    expect(await ignored(commentCreatedPayload(t.fake.store, t.comment(elsewhere, t.alice, 'hello')))).toMatch(
      /no handoff/,
    );
    expect(await ignored({ type: 'Issue', action: 'create', data: { id: elsewhere.id } })).toBe('type Issue');
    expect((await t.bridge.api.getHandoff(approval.handoffId)).status).toBe('awaiting_human');
  });

  it('posts the approval once when the first create went through but its answer was lost', async () => {
    const issue = t.newIssue();
    // The create is carried out but its answer is lost, and Linear stays unwell for the
    // adapter's check, so the outbound job itself is retried and creates again.
    t.fake.failNext('commentCreate', { kind: 'lose-response' });
    t.fake.failNext('comment', { kind: 'server-error' });
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const creates = () =>
      t.fake.requests.filter(
        (r) => r.field === 'commentCreate' && (r.variables.input as { issueId: string }).issueId === issue.id,
      );
    await waitFor('the retried create', () => creates().length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.botComments(issue)).toHaveLength(1);
    expect(new Set(creates().map((r) => (r.variables.input as { id: string }).id))).toEqual(
      new Set([approval.comment.id]),
    );

    // The remembered approval still threads the later notices.
    const code = await t.bridge.approve(approval.url);
    await t.deliver(t.comment(issue, t.alice, code));
    await job.waitUntilFinished(t.agent.events, 20_000);
    const done = await waitFor('success notice', () => t.botComments(issue).find((c) => c.body.startsWith('✅')));
    expect(done.parentId).toBe(approval.comment.id);
  });

  it('waits out a rate limit and then posts, losing nothing', async () => {
    const issue = t.newIssue();
    t.fake.failNext('commentCreate', { kind: 'ratelimit', retryAfterS: 1 });
    await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const attempts = t.fake.requests.filter(
      (r) => r.field === 'commentCreate' && (r.variables.input as { id: string }).id === approval.comment.id,
    );
    expect(attempts).toHaveLength(2);
    // Retry-After: 1 s; the queue waited at least that long before the second try.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(t.botComments(issue)).toHaveLength(1);
  });
});
