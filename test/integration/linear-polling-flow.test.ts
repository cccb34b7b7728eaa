import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLinearRequest } from '../fakes/linear/fake-linear-server.js';
import { startLinearTestBridge, type LinearTestSetup } from '../helpers/linear-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Linear handoffs with replies read by polling (webhooks also on, as a deployment that uses
 * polling as a safety net would run): the poll is the bridge's repeatable BullMQ job, and all
 * waiting issues are read with one `comments` query per poll.
 */
describe('Linear handoffs through polling', () => {
  let t: LinearTestSetup;
  beforeAll(async () => {
    t = await startLinearTestBridge('linear-poll', { inbound: 'both', pollIntervalMs: 2_000 });
  });
  afterAll(async () => t?.close());

  const issueIdsOf = (r: FakeLinearRequest) =>
    ((r.variables.filter as { issue: { id: { in: string[] } } }).issue.id.in ?? []).slice().sort();

  it('finishes a login from a reply that only polling sees', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const code = await t.bridge.approve(approval.url);
    const reply = t.comment(issue, t.alice, `here: ${code}`, approval.comment.id);

    const result = await job.waitUntilFinished(t.agent.events, 30_000);
    expect(result.status).toBe(200);
    await waitFor('the code comment deleted', () => !t.fake.store.comments.has(reply.id));
    const audit = await t.bridge.bridge.engine.audit.recent(20, result.handoffId);
    expect(audit.find((e) => e.event === 'reply.accepted')?.actor).toBe(t.alice.id);
  });

  it('reads many waiting issues with one query per poll, and takes each reply once', async () => {
    const issues = [1, 2, 3, 4, 5].map(() => t.newIssue());
    const jobs = await Promise.all(issues.map((issue) => t.agent.run(`linear:${issue.identifier}`, [])));
    const approvals = await Promise.all(issues.map((issue) => t.approvalOn(issue)));
    const ids = issues.map((i) => i.id).sort();

    // Two polls after every approval is up: each is one query covering all five issues.
    const from = t.fake.requests.length;
    await waitFor(
      'two polls',
      () => t.fake.requests.slice(from).filter((r) => r.field === 'comments').length >= 2,
      20_000,
    );
    const polls = t.fake.requests.slice(from).filter((r) => r.field === 'comments');
    for (const poll of polls) expect(issueIdsOf(poll)).toEqual(ids);
    // The issues' UUIDs were learned when the approvals were posted: polling looks none up.
    expect(t.fake.requests.slice(from).filter((r) => r.field === 'issue')).toEqual([]);

    // Every approver answers; one reply also arrives by webhook: each is handled once.
    const codes = await Promise.all(approvals.map((a) => t.bridge.approve(a.url)));
    const replies = issues.map((issue, i) => t.comment(issue, t.alice, codes[i]!, approvals[i]!.comment.id));
    expect((await t.deliver(replies[0]!)).body.ack).toBe('accepted');
    const results = await Promise.all(jobs.map((job) => job.waitUntilFinished(t.agent.events, 30_000)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await new Promise((r) => setTimeout(r, 2_500)); // one more poll sees the same comments again
    for (const a of approvals) expect(t.bridge.sandbox!.state.successfulExchanges.get(a.url.split('/').pop()!)).toBe(1);
    for (const issue of issues) expect(t.botComments(issue).filter((c) => c.body.startsWith('✅'))).toHaveLength(1);
    // The polls read the bridge's own comments too (the approval carries the link): none was
    // taken for a reply, or the bridge would have answered it with a hint.
    for (const issue of issues)
      expect(
        t
          .botComments(issue)
          .map((c) => c.body)
          .join('\n'),
      ).not.toContain('That is the approval link itself');
  });

  it('leaves a rate-limited poll alone until Linear’s reset, then picks the reply up', async () => {
    const issue = t.newIssue();
    const job = await t.agent.run(`linear:${issue.identifier}`, []);
    const approval = await t.approvalOn(issue);
    const from = t.fake.requests.length;
    t.fake.failNext('comments', { kind: 'ratelimit', resetInMs: 5_000 });
    const code = await t.bridge.approve(approval.url);
    t.comment(issue, t.bob, code);
    expect((await job.waitUntilFinished(t.agent.events, 30_000)).status).toBe(200);
    const polls = t.fake.requests.slice(from).filter((r) => r.field === 'comments');
    expect(polls.length).toBeGreaterThanOrEqual(2);
    // The limited poll said "reset in 5 s": the scope was not polled again before that.
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(4_000);
  });
});
