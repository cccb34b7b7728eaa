import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/github/fake-github-server.js';
import { startTestAgent } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { waitFor } from '../helpers/wait.js';

/**
 * GitHub with no webhook at all: replies arrive only through the repeatable poll job, one
 * request per repository (not per issue), conditional with the last ETag so that an idle
 * repository costs a free 304.
 */
describe('GitHub threads by polling only', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    world = await startGithubWorld('gh-polling', { webhooks: false, polling: true, pollIntervalMs: 1_000 });
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  const repoPolls = (r: RecordedRequest) =>
    r.method === 'GET' && /^\/repos\/codertocat\/hello-world\/issues\/comments$/i.test(r.path);

  it('has no webhook route', async () => {
    const res = await fetch(`${world.bridge.url}/github/webhooks`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('finishes two handoffs in one repository from one poll per interval, idle polls answered 304', async () => {
    const first = await agent.run(world.thread(10), []);
    const second = await agent.run(world.thread(11), ['alice']);
    const a = await world.approvalIn(10);
    const b = await world.approvalIn(11);

    // Idle: the poll repeats its query with If-None-Match and GitHub answers 304.
    await waitFor(
      'an idle poll answered 304',
      () => world.fake.count((r) => repoPolls(r) && r.status === 304) >= 2,
      20_000,
    );
    const idle = world.fake.requests.filter(repoPolls);
    expect(idle.every((r) => r.query.get('since') && r.query.get('sort') === 'updated')).toBe(true);
    expect(idle.filter((r) => r.status === 304).every((r) => r.conditional)).toBe(true);
    const counted = idle.filter((r) => r.status === 200).length;
    const free = idle.filter((r) => r.status === 304).length;
    expect(free).toBeGreaterThanOrEqual(2);
    // Counted calls: the first look, and one to learn the ETag after the approval comments.
    expect(counted).toBeLessThanOrEqual(3);

    const codeA = await world.bridge.approve(a.url);
    const codeB = await world.bridge.approve(b.url);
    const replyA = await world.comment(10, 'Codertocat', `finish code: ${codeA}`, { webhook: false });
    const replyB = await world.comment(11, 'alice', codeB, { webhook: false });

    expect(await first.waitUntilFinished(agent.events, 30_000)).toMatchObject({ status: 200, handoffId: a.handoffId });
    expect(await second.waitUntilFinished(agent.events, 30_000)).toMatchObject({ status: 200, handoffId: b.handoffId });
    await waitFor(
      'both code comments deleted',
      () =>
        world.fake.state.comments.get(replyA.comment.id)!.deleted &&
        world.fake.state.comments.get(replyB.comment.id)!.deleted,
    );

    // One request per repository, never one per issue.
    expect(world.fake.count((r) => r.method === 'GET' && /\/issues\/\d+\/comments$/.test(r.path))).toBe(0);
    const stats = world.fake.requests.filter(repoPolls);
    process.stdout.write(
      `github polling: ${stats.filter((r) => r.status === 200).length} counted list calls, ${stats.filter((r) => r.status === 304).length} free 304s\n`,
    );
  });

  it('stops polling a repository once nothing there is open', async () => {
    await new Promise((r) => setTimeout(r, 1_500)); // let a poll already under way finish
    const before = world.fake.count(repoPolls);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(world.fake.count(repoPolls)).toBe(before);
  });
});
