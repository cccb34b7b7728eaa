import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubPlatform, type GithubPoller } from '../../adapters/github/github-platform.js';
import { loadPlatformConfig as loadConfig } from '../helpers/platform-config.js';
import { RateLimitedError } from '../../src/core/errors.js';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github/fake-github-server.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';

/** The poller alone against the fake GitHub, with a sink that records what it is handed. */
describe('the GitHub poller', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('gh-poller');
  let fake: FakeGithub;
  let poller: GithubPoller;
  const received: InboundReply[] = [];
  const seen = new Set<string>();
  const repo = 'octo-org/busy';
  const scope = { scope: repo, threads: ['github:octo-org/busy#1', 'github:octo-org/busy#2'] };
  const listCalls = () => fake.requests.filter((r) => r.path === `/repos/${repo}/issues/comments`);

  beforeAll(async () => {
    fake = await startFakeGithub();
    fake.state.addRepo(repo, { issues: [1, 2, 3] });
    const config = loadConfig({
      NODE_ENV: 'test',
      GITHUB_TOKEN: fake.auth.addToken('handoff-bot'),
      GITHUB_API_URL: fake.url,
      GITHUB_ACCEPT_EDITS: 'true',
    }).github!;
    const platform = createGithubPlatform({
      config,
      store: redisKeyValue(redis, createKeys(prefix).adapter('github')),
      // Deduplicates by message id, as the bridge's intake does.
      sink: async (reply) => {
        if (seen.has(reply.messageRef.id)) return 'duplicate';
        seen.add(reply.messageRef.id);
        received.push(reply);
        return 'accepted';
      },
      now: Date.now,
      logger: captureLogs('gh-poller').logger,
    });
    poller = platform.poller!;
    await platform.start();
    // The approval comment starts the repository's cursor.
    await platform.adapter.post(platform.adapter.parseThread('github:octo-org/busy#1'), {
      kind: 'notice',
      handoffId: 'hf_x',
      event: 'info',
      text: ['approval here'],
    });
  });
  afterAll(async () => {
    await fake.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('groups open threads into one scope per repository', () => {
    const scopes = poller.scopes(['github:a/b#1', 'github:a/b#2', 'github:c/d#9', 'github:A/B#3', 'not-a-ref']);
    expect(scopes).toEqual([
      { scope: 'a/b', threads: ['github:A/B#3', 'github:a/b#1', 'github:a/b#2'] },
      { scope: 'c/d', threads: ['github:c/d#9'] },
    ]);
  });

  it('reads a busy repository in pages, hands on only people’s comments in open threads, then idles on 304', async () => {
    // A second apart (GitHub's timestamps have second precision), after the approval comment.
    const t0 = Date.now() + 1_000;
    for (let i = 0; i < 130; i++)
      fake.state.addComment(repo, 1 + (i % 3), `user${i % 5}`, `comment ${i}`, { at: t0 + i * 1_000 });
    fake.state.addComment(repo, 1, 'dependabot[bot]', 'bump', { type: 'Bot', at: t0 });
    await poller.poll(scope);
    const pages = listCalls();
    expect(pages.map((r) => r.query.get('page'))).toEqual(['1', '2']);
    expect(
      pages.every((r) => r.status === 200 && r.query.get('sort') === 'updated' && r.query.get('per_page') === '100'),
    ).toBe(true);
    // Issue 3 has no open handoff; the bot's and the bridge's own comments are not answers.
    expect(received.length).toBe(87);
    expect(new Set(received.map((r) => r.thread))).toEqual(new Set(scope.threads));
    expect(received.every((r) => r.deliveryId === `poll:${r.messageRef.id}` && !r.author.id.includes('[bot]'))).toBe(
      true,
    );

    await poller.poll(scope); // the window moved: a 200 that yields the ETag of the new query
    await poller.poll(scope);
    const after = listCalls().slice(2);
    expect(after.map((r) => r.status)).toEqual([200, 304]);
    expect(after[1]!.conditional).toBe(true);
    expect(received.length).toBe(87);
  });

  it('hands on a new comment, and an edit (when accepted) under its own identity', async () => {
    const at = Date.now() + 200_000; // after the comments above
    const fresh = fake.state.addComment(repo, 2, 'alice', 'first words', { at });
    await poller.poll(scope);
    expect(received.at(-1)).toMatchObject({
      messageRef: { id: String(fresh.id) },
      text: 'first words',
      author: { id: 'alice' },
    });
    fake.state.comments.get(fresh.id)!.body = 'edited words';
    fake.state.comments.get(fresh.id)!.updatedAt = new Date(at + 5_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await poller.poll(scope);
    expect(received.at(-1)!.text).toBe('edited words');
    expect(received.at(-1)!.messageRef.id).toMatch(new RegExp(`^${fresh.id}@\\d+$`));
  });

  it('turns a rate limit on the poll into a RateLimitedError with the wait', async () => {
    fake.failNext({
      method: 'GET',
      path: /\/issues\/comments$/,
      status: 403,
      headers: { 'retry-after': '42' },
      message: 'You have exceeded a secondary rate limit.',
    });
    const caught = await poller.poll(scope).catch((err: unknown) => err);
    expect(caught).toBeInstanceOf(RateLimitedError);
    expect((caught as RateLimitedError).retryAfterMs).toBe(42_000);
  });
});
