import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handoffTag } from '../../src/core/handoff-tag.js';
import { startTestAgent } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { alice, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';

/**
 * Issue #11, finding 1 on the platforms, through their real SDKs and fakes. GitHub: with no
 * approvers named, "write access" is the rule, and no service account can be checked against
 * it — so a reader's approval at the service no longer finishes the login; someone with write
 * access must say so in the issue. Slack: an approver named by handle is known by the email
 * Slack's directory gives, and the service's answer is checked against it.
 */
describe('GitHub: a reader’s approval at the service does not finish a login that needs write access', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    world = await startGithubWorld('bind-gh', { env: { HANDOFF_POLL_INTERVAL_MS: '1000' } });
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  it('holds rita’s approval (read access), refuses her "done", and finishes on alice’s (write access)', async () => {
    const job = await agent.run(world.thread(7), []);
    const { url, handoffId } = await world.approvalIn(7);
    await approveOnSandbox(url, 'rita@evil.example');

    const ready = await waitFor(
      'service-ready comment',
      () => world.botComments(7).find((c) => c.body.includes('🔔')),
      15_000,
    );
    expect(ready.body).toContain('by the account `r***@evil.example`');
    expect(ready.body).not.toContain('rita@evil.example');
    expect(await job.getState()).not.toBe('completed');

    await world.comment(7, 'rita', 'done');
    await waitFor(
      'rita refused',
      () =>
        world
          .botComments(7)
          .find((c) => /rita`?, you cannot answer request/.test(c.body) && c.body.includes(handoffTag(handoffId))),
      15_000,
    );
    expect((await world.bridge.api.getHandoff(handoffId)).status).toBe('awaiting_human');

    await world.comment(7, 'alice', 'done');
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
    const completed = (await world.bridge.bridge.engine.audit.recent(100, handoffId)).find(
      (e) => e.event === 'handoff.completed',
    );
    expect(completed?.actor).toBe('alice');
  });
});

describe('Slack: the approver’s directory email is what the service’s answer is checked against', () => {
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    h = await startSlackTestBridge('bind-slack', { env: { HANDOFF_POLL_INTERVAL_MS: '1000' } });
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  it('refuses mallory’s approval of "@alice"’s login, sends alice a fresh link, and finishes by the poll alone once alice approves', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, ['@alice']);
    const first = await h.privateApproval(thread, alice.id);
    await h.bridge.approve(first.url, 'mallory@example.com');

    await waitFor('refusal', () => h.botTexts(thread).find((t) => t.startsWith('⛔')), 15_000);
    const entry = (await h.bridge.bridge.engine.audit.recent(100, first.handoffId)).find(
      (e) => e.event === 'poll.refused',
    );
    expect(entry?.detail).toMatchObject({ account: 'mallory@example.com' });
    // The fresh link goes to alice privately, like the first.
    const threadTs = thread.split('/')[1];
    const links = () =>
      h.slack.state.ephemeral
        .filter((e) => e.user === alice.id && e.threadTs === threadTs)
        .map((e) => /https?:\/\/[^\s<>|]+\/sandbox\/authorize\/[^\s<>|]+/.exec(shownText(e))?.[0]);
    const fresh = await waitFor(
      'a fresh private link',
      () => (links().length >= 2 ? links().at(-1) : undefined),
      15_000,
    );
    expect(fresh).not.toBe(first.url);

    await h.bridge.approve(fresh, alice.email);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result.me).toMatchObject({ account: { email: alice.email } });
  });
});
