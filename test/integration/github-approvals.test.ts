import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Approvals (issue #13) in a GitHub issue, through the real Octokit against the fake GitHub and
 * signed webhooks: `/approve` and `/deny <reason>` on a comment's first line, any case; only
 * people with GITHUB_APPROVER_PERMISSION (write) count.
 */
describe('approvals in GitHub issues', () => {
  let world: GithubWorld;
  beforeAll(async () => {
    world = await startGithubWorld('gh-approvals', { webhooks: true, polling: false });
  });
  afterAll(async () => world?.close());

  const ask = async (issue: number) => {
    const created = await world.bridge.api.createApproval({
      thread: world.thread(issue),
      agent: { id: 'gh-agent' },
      action: { title: 'Merge the release branch `main`', details: { version: '2.0.0' } },
    });
    await waitFor('the request comment', () => world.botComments(issue).find((c) => c.body.includes('🛂')));
    return created.id;
  };
  const decision = (id: string) =>
    waitFor('the decision', async () => (await world.bridge.api.getApproval(id)).decision ?? undefined);

  it('a reader cannot approve; a writer’s /APPROVE does', async () => {
    const id = await ask(11);
    const request = world.botComments(11).find((c) => c.body.includes('🛂'))!;
    // The agent's words are a code span: the backtick cannot close it early.
    expect(request.body).toContain('version');
    await world.comment(11, 'rita', '/approve');
    await waitFor('the refusal', () => world.botComments(11).find((c) => c.body.includes('may not decide')));
    expect((await world.bridge.api.getApproval(id)).status).toBe('awaiting_human');
    await world.comment(11, 'alice', '/APPROVE\nshipping it');
    expect(await decision(id)).toMatchObject({ outcome: 'approved', by: [{ who: 'alice' }] });
  });

  it('/deny <reason> denies with the reason', async () => {
    const id = await ask(12);
    await world.comment(12, 'Codertocat', '/Deny tests are red');
    expect(await decision(id)).toMatchObject({
      outcome: 'denied',
      by: [{ who: 'Codertocat' }],
      reason: 'tests are red',
    });
    await waitFor('the outcome comment', () => world.botComments(12).find((c) => c.body.includes('Denied by')));
  });
});
