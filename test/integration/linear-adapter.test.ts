import { handoffTag } from '../../src/core/handoff-tag.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinearPlatform, type LinearThread } from '../../adapters/linear/linear-platform.js';
import { systemClock } from '../../src/core/clock.js';
import { plainSentence } from '../../src/core/sentence.js';
import { HandoffError, RateLimitedError } from '../../src/core/errors.js';
import type { ApprovalRequestMessage, NoticeMessage } from '../../src/core/messages.js';
import type { ThreadAdapter } from '../../src/core/thread-adapter.js';
import { startFakeLinear, type FakeLinearOptions } from '../fakes/linear/fake-linear-server.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';

/**
 * The Linear adapter's own rules, with the real LinearClient against the fake Linear API and
 * the adapter's state in the real Redis: idempotent posts, threading, rate limits and other
 * errors, redaction fallbacks, who may answer, and approver lookup.
 */
const redis = connectTestRedis();
const prefix = randomPrefix('linear-adapter');
const { logger, lines } = captureLogs('linear-adapter');
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

let n = 0;
async function setup(options: Partial<FakeLinearOptions> = {}) {
  const apiKey = `lin_api_${'Adapter0'.repeat(4)}${n++}`;
  const fake = await startFakeLinear({ auth: apiKey, viewer: { admin: true }, ...options });
  closers.push(() => fake.close());
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const bob = fake.store.addUser({ name: 'Bob Builder', displayName: 'bob' });
  const issue = fake.store.addIssue({ identifier: `OPS-${n}`, assigneeId: alice.id, creatorId: bob.id });
  const platform = createLinearPlatform({
    config: { auth: { kind: 'api_key', apiKey }, apiUrl: fake.url, webhookSecret: undefined, poll: undefined },
    store: redisKeyValue(redis, `${prefix}:${n}:linear`),
    sink: async () => 'accepted',
    clock: systemClock,
    logger,
  });
  const adapter = platform.adapter as ThreadAdapter<LinearThread>;
  const thread = adapter.parseThread(`linear:${issue.identifier}`);
  return { fake, alice, bob, issue, platform, adapter, thread };
}

const handoffId = () => `hf_${(++n).toString(16).padStart(24, '0')}`;
const approval = (id: string, over: Partial<ApprovalRequestMessage> = {}): ApprovalRequestMessage => ({
  kind: 'approval_request',
  handoffId: id,
  handoffTag: handoffTag(id),
  serviceName: 'Agent Analytics',
  serviceUrl: 'https://api.analytics.example',
  agentId: 'nightly',
  scopes: ['account:read'],
  approvalUrl: 'https://analytics.example/authorize/ar_1',
  answer: 'finish_code',
  expiresAt: Date.now() + 600_000,
  approvers: [],
  ...over,
});
const notice = (id: string, text: string): NoticeMessage => ({
  kind: 'notice',
  handoffId: id,
  event: 'wrong_code',
  text: [text],
});

async function rejection(promise: Promise<unknown>): Promise<HandoffError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HandoffError);
  return err as HandoffError;
}

describe('Linear adapter: posting', () => {
  it('posts once per outbound job: a retry reuses its id, a repeated notice from another job is a new comment', async () => {
    const { fake, issue, adapter, thread } = await setup();
    const id = handoffId();
    const first = await adapter.post(thread, approval(id), { idempotencyKey: '17' });
    const again = await adapter.post(thread, approval(id), { idempotencyKey: '17' });
    expect(again.id).toBe(first.id);
    const wrong1 = await adapter.post(thread, notice(id, 'That code did not work.'), { idempotencyKey: '18' });
    const wrong2 = await adapter.post(thread, notice(id, 'That code did not work.'), { idempotencyKey: '19' });
    expect(wrong2.id).not.toBe(wrong1.id);
    const comments = fake.store.commentsOf(issue.id);
    expect(comments.map((c) => c.id)).toEqual([first.id, wrong1.id, wrong2.id]);
    // Notices hang under the approval; ids are UUIDs in v4 layout, as Linear requires.
    expect(comments.slice(1).map((c) => c.parentId)).toEqual([first.id, first.id]);
    for (const c of comments)
      expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('posts a notice at the top of the issue when its approval comment was deleted', async () => {
    const { fake, adapter, thread } = await setup();
    const id = handoffId();
    const ref = await adapter.post(thread, approval(id), { idempotencyKey: '1' });
    fake.store.comments.delete(ref.id);
    const posted = await adapter.post(thread, notice(id, 'The login request expired.'), { idempotencyKey: '2' });
    expect(fake.store.comments.get(posted.id)?.parentId).toBeUndefined();
  });

  it('turns Linear’s rate limit into a RateLimitedError with the wait in ms (Retry-After or the reset time)', async () => {
    const { fake, adapter, thread } = await setup();
    fake.failNext('commentCreate', { kind: 'ratelimit', retryAfterS: 7 });
    const byRetryAfter = await rejection(adapter.post(thread, notice(handoffId(), 'x'), { idempotencyKey: '1' }));
    expect(byRetryAfter).toBeInstanceOf(RateLimitedError);
    expect(byRetryAfter).toMatchObject({ code: 'linear_rate_limited', retry: 'after_delay', retryAfterMs: 7_000 });
    fake.failNext('commentCreate', { kind: 'ratelimit', resetInMs: 20_000 });
    const byReset = await rejection(adapter.post(thread, notice(handoffId(), 'x'), { idempotencyKey: '2' }));
    expect(byReset.retryAfterMs).toBeGreaterThan(15_000);
    expect(byReset.retryAfterMs).toBeLessThanOrEqual(20_000);
  });

  it('fails for good on a missing issue or a bad credential, and retries server errors', async () => {
    const { fake, adapter } = await setup();
    const missing = await rejection(
      adapter.post(adapter.parseThread('linear:NOPE-1'), approval(handoffId()), { idempotencyKey: '1' }),
    );
    expect(missing).toMatchObject({ code: 'linear_not_found', retry: 'never' });

    const stranger = createLinearPlatform({
      config: {
        auth: { kind: 'access_token', accessToken: 'lin_oauth_wrongwrongwrongwrongwrong' },
        apiUrl: fake.url,
        webhookSecret: undefined,
        poll: undefined,
      },
      store: redisKeyValue(redis, `${prefix}:stranger:linear`),
      sink: async () => 'accepted',
      clock: systemClock,
      logger,
    });
    const thread = stranger.adapter.parseThread('linear:OPS-1');
    const denied = await rejection(stranger.adapter.post(thread, notice(handoffId(), 'x'), { idempotencyKey: '1' }));
    expect(denied).toMatchObject({ code: 'linear_unauthorized', retry: 'never' });
    expect(denied.message).toContain('LINEAR_API_KEY');

    fake.failNext('commentCreate', { kind: 'server-error' });
    fake.failNext('comment', { kind: 'server-error' });
    const flaky = await rejection(
      adapter.post(
        adapter.parseThread(`linear:${[...fake.store.issues.values()][0]!.identifier}`),
        notice(handoffId(), 'x'),
        { idempotencyKey: '9' },
      ),
    );
    expect(flaky.retry).toBe('backoff');
  });

  it('refuses to count someone else’s comment that holds the chosen id as its own post', async () => {
    const { fake, alice, issue, adapter, thread } = await setup();
    const id = handoffId();
    const ours = await adapter.post(thread, notice(id, 'probe'), { idempotencyKey: '5' });
    // Someone predicted the next id and took it first.
    fake.store.comments.delete(ours.id);
    fake.store.deleted.delete(ours.id);
    fake.store.addComment({ id: ours.id, issueId: issue.id, body: 'squatting', userId: alice.id });
    const err = await rejection(adapter.post(thread, notice(id, 'probe'), { idempotencyKey: '5' }));
    expect(err).toMatchObject({ code: 'linear_comment_id_taken', retry: 'never' });
  });
});

describe('Linear adapter: reactions and redaction', () => {
  it('reacts with status emoji, and shrugs off a comment that is gone', async () => {
    const { fake, alice, issue, adapter, thread } = await setup();
    const c = fake.store.addComment({ issueId: issue.id, body: 'code', userId: alice.id });
    const ref = { platform: 'linear' as const, thread: thread.ref, id: c.id };
    await adapter.react!(ref, 'seen');
    await adapter.react!(ref, 'seen');
    await adapter.react!(ref, 'fail');
    expect(c.reactions.map((r) => r.emoji)).toEqual(['👀', '❌']);
    await expect(adapter.react!({ ...ref, id: '00000000-0000-4000-8000-00000000dead' }, 'ok')).resolves.toBeUndefined();
    expect(lines.some((l) => l.includes('linear reaction not added'))).toBe(true);
  });

  it('edits the code away when the comment may not be deleted', async () => {
    const { fake, alice, issue, adapter, thread } = await setup({
      viewer: { admin: false },
      permissions: { deleteOthers: false, editOthers: true },
    });
    const c = fake.store.addComment({ issueId: issue.id, body: `code aae_${'ab'.repeat(24)}`, userId: alice.id });
    expect(await adapter.redact!({ platform: 'linear', thread: thread.ref, id: c.id })).toBe('hidden');
    expect(fake.store.comments.get(c.id)?.body).toBe('_[code removed by handoff after use]_');
  });

  it('says so in the thread when it may neither delete nor edit the comment', async () => {
    const { fake, alice, issue, adapter, thread } = await setup({ viewer: { admin: false } });
    const parent = fake.store.addComment({ issueId: issue.id, body: 'approval', userId: fake.viewer.id });
    const c = fake.store.addComment({ issueId: issue.id, body: 'the code', userId: alice.id, parentId: parent.id });
    const ref = { platform: 'linear' as const, thread: thread.ref, id: c.id };
    expect(await adapter.redact!(ref)).toBe('unsupported');
    expect(await adapter.redact!(ref)).toBe('unsupported'); // a retried job says it once
    const said = fake.store.commentsOf(issue.id).filter((x) => x.body.includes('could not remove'));
    expect(said).toHaveLength(1);
    expect(said[0]!.parentId).toBe(parent.id);
  });

  it('counts a comment already gone as deleted', async () => {
    const { adapter, thread } = await setup({ viewer: { admin: false } });
    expect(
      await adapter.redact!({ platform: 'linear', thread: thread.ref, id: '00000000-0000-4000-8000-00000000beef' }),
    ).toBe('deleted');
  });
});

describe('Linear adapter: who may answer', () => {
  it('allows the issue’s assignee and creator when no approver is named, as the issue is now', async () => {
    const { fake, alice, bob, issue, adapter, thread } = await setup();
    const carol = fake.store.addUser({ name: 'Carol Jones', displayName: 'carol' });
    expect(await adapter.checkApprover!(thread, { id: alice.id }, [])).toEqual({ allowed: true });
    expect(await adapter.checkApprover!(thread, { id: bob.id }, [])).toEqual({ allowed: true });
    const refused = await adapter.checkApprover!(thread, { id: carol.id }, []);
    expect(refused.allowed).toBe(false);
    expect(plainSentence(refused.reason!)).toBe("Only this issue's assignee (alice) or creator (bob) may answer.");
    fake.store.issues.get(issue.id)!.assigneeId = carol.id;
    expect(await adapter.checkApprover!(thread, { id: carol.id }, [])).toEqual({ allowed: true });
    expect((await adapter.checkApprover!(thread, { id: alice.id }, [])).allowed).toBe(false);
  });

  it('allows only the named approvers when there are some', async () => {
    const { alice, bob, adapter, thread } = await setup();
    expect(await adapter.checkApprover!(thread, { id: bob.id }, [bob.id])).toEqual({ allowed: true });
    const refused = await adapter.checkApprover!(thread, { id: alice.id }, [bob.id]);
    expect(refused.allowed).toBe(false);
    expect(plainSentence(refused.reason!)).toBe('Only bob may answer.');
  });

  it('resolves approvers by user id, email, display name or @name, with their email', async () => {
    const { fake, alice, adapter, thread } = await setup();
    const expected = { id: alice.id, name: 'alice', email: alice.email };
    expect(await adapter.resolvePerson!(thread, alice.id.toUpperCase())).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, 'ALICE@example.com')).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, '@alice')).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, 'Alice Example')).toEqual(expected);
    expect(await rejection(adapter.resolvePerson!(thread, 'nobody@example.com'))).toMatchObject({
      code: 'approver_not_found',
      status: 400,
    });
    fake.store.addUser({ name: 'Alice Other', displayName: 'alice2', email: 'alice.other@example.com' });
    fake.store.addUser({ name: 'Sam One', displayName: 'sam', email: 'sam1@example.com' });
    fake.store.addUser({ name: 'Sam Two', displayName: 'sam', email: 'sam2@example.com' });
    expect(await rejection(adapter.resolvePerson!(thread, 'sam'))).toMatchObject({ code: 'approver_ambiguous' });
  });
});
