import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileReason } from '../helpers/approval-edits.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { forbiddenCharacters, githubMentions, readMarkdown } from '../helpers/rendered-markup.js';
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

  /** The request comment (by id) once its body says `what`. */
  const requestSays = (issue: number, id: number, what: string) =>
    waitFor(`the request comment to say "${what}"`, () =>
      world.botComments(issue).find((c) => c.id === id && c.body.includes(what)),
    );

  it('the request comment is edited: 1 of 2 after the first approval, then approved by both', async () => {
    const created = await world.bridge.api.createApproval({
      thread: world.thread(13),
      agent: { id: 'gh-agent' },
      action: { title: 'Tag release 2.0.0' },
      quorum: 2,
    });
    const request = await waitFor('the request comment', () =>
      world.botComments(13).find((c) => c.body.includes('🛂')),
    );
    await world.comment(13, 'alice', '/approve');
    const counted = await requestSays(13, request.id, 'Approvals so far: 1 of 2');
    expect(counted.body).toContain('<!-- handoff-bridge -->');
    await world.comment(13, 'Codertocat', '/approve');
    const done = await requestSays(13, request.id, '✅ Approved');
    expect(done.body).toMatch(/Approved by .*alice.*Codertocat.* at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(done.body).not.toContain('Reply "approve"');
    // Edited, not posted again: no request is left asking.
    expect(world.botComments(13).filter((c) => c.body.includes('🛂'))).toEqual([]);
    expect((await world.bridge.api.getApproval(created.id)).decision?.outcome).toBe('approved');
  });

  it('a deny with a hostile reason: the edited comment shows it as text, with no mention, link or markup', async () => {
    await world.bridge.api.createApproval({
      thread: world.thread(14),
      agent: { id: 'gh-agent' },
      action: { title: 'Delete the staging database' },
    });
    const request = await waitFor('the request comment', () =>
      world.botComments(14).find((c) => c.body.includes('🛂')),
    );
    await world.comment(14, 'alice', `/deny ${hostileReason}`);
    const done = await requestSays(14, request.id, '⛔ Denied');
    const facts = readMarkdown(done.body);
    expect(facts.links).toEqual([]);
    expect(facts.structure).toEqual([]);
    expect(githubMentions(facts.text)).toEqual([]);
    expect(facts.code.join(' ')).toContain('<!channel>');
    for (const line of done.body.split('\n')) expect(line).not.toMatch(forbiddenCharacters);
  });
});
