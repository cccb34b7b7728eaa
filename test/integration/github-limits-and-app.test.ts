import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { waitFor } from '../helpers/wait.js';

const secondaryLimit =
  'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.';

describe('GitHub rate limits become delays, never lost comments', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    world = await startGithubWorld('gh-limits', { webhooks: true, polling: false });
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  it('holds the approval comment back for the retry-after of a secondary limit, then posts it', async () => {
    world.fake.failNext({
      method: 'POST',
      path: /\/issues\/20\/comments$/,
      status: 403,
      headers: { 'retry-after': '2' },
      message: secondaryLimit,
    });
    const job = await agent.run(world.thread(20), ['alice']);
    const { handoffId } = await world.approvalIn(20);
    const posts = world.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/issues/20/comments'));
    expect(posts.map((r) => r.status)).toEqual([403, 201]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect((await world.bridge.api.getHandoff(handoffId)).status).toBe('awaiting_human');

    // A primary limit (remaining 0 until the reset) on the reaction is a delay as well.
    const reset = Math.ceil(Date.now() / 1000) + 2;
    world.fake.failNext({
      method: 'POST',
      path: /\/reactions$/,
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      message: 'API rate limit exceeded for user.',
    });
    const { url } = await world.approvalIn(20);
    const sent = await world.comment(20, 'alice', await world.bridge.approve(url));
    await job.waitUntilFinished(agent.events, 30_000);
    // The reply's one reaction (a quick claim: ✅ alone, seen-reaction.ts) waits out the reset.
    await waitFor(
      'the reaction after the reset',
      () => sent.comment.reactions.includes('hooray') || world.fake.state.comments.get(sent.comment.id)!.deleted,
      20_000,
    );
    const reactions = world.fake.requests.filter((r) => r.path.endsWith(`/comments/${sent.comment.id}/reactions`));
    expect(reactions[0]!.status).toBe(403);
    expect(reactions.slice(1).some((r) => r.status === 201)).toBe(true);
    expect(reactions[1]!.at).toBeGreaterThanOrEqual(reset * 1000 - 1_000);
  });
});

describe('GitHub as a GitHub App', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    world = await startGithubWorld('gh-app', {
      webhooks: true,
      polling: false,
      app: true,
      env: { GITHUB_ALLOW_PUBLIC_REPOS: 'true' },
    });
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  it('fetches an installation token with its JWT, and refreshes it before it expires', async () => {
    // The first token lives 4 minutes: inside the 5-minute refresh margin, so it is replaced
    // at the next call; the next one lives an hour and is reused.
    world.fake.auth.installationTokenLifetimeMs = 4 * 60_000;
    const job = await agent.run(world.thread(30), ['alice']);
    const { comment: approval, url } = await world.approvalIn(30);
    expect(world.fake.auth.issued.length).toBeGreaterThanOrEqual(1);
    world.fake.auth.installationTokenLifetimeMs = 3_600_000;
    const before = world.fake.auth.issued.length;

    // The App's comments are its bot's, and carry performed_via_github_app.
    expect(approval.user).toMatchObject({ login: 'handoff-bridge[bot]', type: 'Bot' });
    const sent = await world.comment(30, 'alice', await world.bridge.approve(url));
    await job.waitUntilFinished(agent.events, 30_000);
    await waitFor('code comment deleted', () => world.fake.state.comments.get(sent.comment.id)!.deleted);

    const minted = world.fake.auth.issued;
    expect(minted.length).toBe(before + 1);
    expect(minted.every((t) => t.installationId === 42)).toBe(true);
    // Token requests and the installation lookup were made as the App (a verified RS256 JWT).
    expect(
      world.fake.count(
        (r) => r.path === '/app/installations/42/access_tokens' && r.caller === 'app' && r.status === 201,
      ),
    ).toBe(minted.length);
    expect(
      world.fake.count((r) => /\/repos\/codertocat\/hello-world\/installation$/i.test(r.path) && r.caller === 'app'),
    ).toBe(1);
    expect(world.fake.auth.rejectedJwts).toBe(0);
    // Everything else used installation tokens, and none was refused.
    const api = world.fake.requests.filter((r) => !r.path.startsWith('/app/') && !r.path.endsWith('/installation'));
    expect(api.length).toBeGreaterThan(5);
    expect(api.every((r) => r.caller === 'installation')).toBe(true);
    expect(world.fake.count((r) => r.status === 401)).toBe(0);
    expect(world.fake.count((r) => r.path === '/user')).toBe(0);
  });

  it('posts into a public repository when allowed, with a warning in the comment', async () => {
    const created = await world.bridge.api.createHandoff({
      service: `${world.bridge.url}/sandbox`,
      thread: 'github:octo-org/public-site#1',
      agent: { id: 'agent-public' },
    });
    const comment = await waitFor('approval comment in the public repository', () =>
      world.fake.state.thread('octo-org/public-site', 1).find((c) => c.body.includes('/sandbox/authorize/')),
    );
    expect(comment.body).toContain('People outside your organization can read this thread, and with it this link.');
    expect((await world.bridge.api.getHandoff(created.id)).status).toBe('awaiting_human');
    await world.bridge.api.cancelHandoff(created.id);
  });
});
