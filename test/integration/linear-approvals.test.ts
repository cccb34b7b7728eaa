import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeIssue } from '../fakes/linear/fake-linear-store.js';
import { hostileReason } from '../helpers/approval-edits.js';
import { startLinearTestBridge, type LinearTestSetup } from '../helpers/linear-bridge.js';
import { forbiddenCharacters, readMarkdown } from '../helpers/rendered-markup.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Approvals (issue #13) on a Linear issue, through the real LinearClient against the fake
 * Linear and signed webhooks: replies `approve` and `deny <reason>` decide (the issue's
 * assignee and creator when nobody is named), and the bridge's request comment is edited
 * (commentUpdate) to show the votes and then the outcome.
 */
describe('approvals on Linear issues', () => {
  let setup: LinearTestSetup;
  beforeAll(async () => {
    setup = await startLinearTestBridge('linear-approvals');
  });
  afterAll(async () => setup?.close());

  const ask = async (issue: FakeIssue, extra: { quorum?: number } = {}) => {
    const created = await setup.bridge.api.createApproval({
      thread: `linear:${issue.identifier}`,
      agent: { id: 'linear-agent' },
      action: { title: 'Close the sprint and move open issues' },
      ...extra,
    });
    const request = await waitFor('the request comment', () =>
      setup.botComments(issue).find((c) => c.body.includes('🛂')),
    );
    return { id: created.id, request };
  };
  /** A person's reply under the request, delivered by webhook. */
  const reply = async (issue: FakeIssue, user: LinearTestSetup['alice'], body: string, parentId: string) => {
    const res = await setup.deliver(setup.comment(issue, user, body, parentId));
    expect(res.status).toBe(200);
  };
  const requestSays = (issue: FakeIssue, id: string, what: string) =>
    waitFor(`the request comment to say "${what}"`, () =>
      setup.botComments(issue).find((c) => c.id === id && c.body.includes(what)),
    );
  const decision = (id: string) =>
    waitFor('the decision', async () => (await setup.bridge.api.getApproval(id)).decision ?? undefined);

  it('quorum 2: the assignee’s "approve" shows 1 of 2 in the request, the creator’s approves it', async () => {
    const issue = setup.newIssue();
    const { id, request } = await ask(issue, { quorum: 2 });
    await reply(issue, setup.alice, 'approve', request.id);
    await requestSays(issue, request.id, 'Approvals so far: 1 of 2');
    await reply(issue, setup.bob, 'LGTM', request.id);
    expect(await decision(id)).toMatchObject({ outcome: 'approved' });
    const done = await requestSays(issue, request.id, '✅ Approved');
    expect(done.body).toMatch(/at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(done.body).not.toContain('Reply "approve"');
  });

  it('someone neither assignee nor creator is refused; nothing is counted', async () => {
    const issue = setup.newIssue();
    const { id, request } = await ask(issue);
    await reply(issue, setup.mallory, 'approve', request.id);
    await waitFor('the refusal', () => setup.botComments(issue).find((c) => c.body.includes('may not decide')));
    expect((await setup.bridge.api.getApproval(id)).votes.approve).toEqual([]);
  });

  it('"deny <reason>" denies; the edited request shows the hostile reason as code, without links', async () => {
    const issue = setup.newIssue();
    const { id, request } = await ask(issue);
    await reply(issue, setup.bob, `deny ${hostileReason}`, request.id);
    expect(await decision(id)).toMatchObject({ outcome: 'denied', by: [{ who: setup.bob.id }] });
    const done = await requestSays(issue, request.id, '⛔ Denied');
    const facts = readMarkdown(done.body);
    expect(facts.links).toEqual([]);
    expect(facts.structure).toEqual([]);
    expect(facts.code.join(' ')).toContain('[click](https://evil.example/x)');
    for (const line of done.body.split('\n')) expect(line).not.toMatch(forbiddenCharacters);
  });
});
