import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handoffTag } from '../../src/core/handoff-tag.js';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { codeSubmission, pasteCodeClick } from '../fixtures/slack/slack-fixtures.js';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { startLinearTestBridge, type LinearTestSetup } from '../helpers/linear-bridge.js';
import { approveOnSandbox, codeFromMailbox } from '../helpers/sandbox-server.js';
import { alice, pasteButtonValue, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, finding 2: with two handoffs open in one thread, a pasted code was tried on the
 * older one first — an attacker's service got the victim's code — and wrong codes counted on
 * the newest. A reply now reaches at most one service: the one the platform or a tag names,
 * or the only one whose answer has the reply's shape; otherwise the thread is asked which.
 */
const wrong = `aae_${'0'.repeat(48)}`;
const exchangeCalls = (bridge: TestBridge, base: string) =>
  bridge.sandboxes.get(base)!.state.calls.filter((c) => c.path.endsWith('/agent-sessions/exchange')).length;

describe('local threads: an attacker’s handoff next to the victim’s', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    bridge = await startTestBridge('one-reply', {
      // Only answers in the thread finish logins here: no background poll gets in between.
      env: { HANDOFF_POLL_INTERVAL_MS: '600000' },
      extraSandboxes: [
        { base: '/sandbox/evil', options: { serviceName: 'Totally Legit Analytics', protocols: ['agent-sessions'] } },
      ],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await bridge?.close();
  });

  /** The attacker's handoff first (it used to get every code first), then the victim's. */
  async function twoHandoffs(label: string, victimService = '/sandbox', extra = {}) {
    const thread = freshThread(label);
    await agent.run(thread, ['alice'], 'agent-evil', `${bridge.url}/sandbox/evil`);
    const evil = await requestIn(bridge, thread, 1);
    const victimJob = await agent.run(thread, ['alice'], 'agent-victim', `${bridge.url}${victimService}`, extra);
    const victim = await requestIn(bridge, thread, 2);
    return { thread, evil, victim, victimJob };
  }

  it('shows a tag on every approval request', async () => {
    const { victim, evil } = await twoHandoffs('tags');
    expect(victim.text).toContain(`Tag ${handoffTag(victim.handoffId)}`);
    expect(evil.text).toContain(`Tag ${handoffTag(evil.handoffId)}`);
  });

  it('asks which when the code fits both, sends it nowhere, counts nothing; the tagged reply then reaches the victim’s service alone', async () => {
    const { thread, evil, victim, victimJob } = await twoHandoffs('ask');
    const code = await approveOnSandbox(victim.url);

    await bridge.reply(thread, 'alice', `here you go ${code}`);
    const asked = await waitFor('the question', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('Several login requests wait')),
    );
    expect(asked).toContain(handoffTag(evil.handoffId));
    expect(asked).toContain(handoffTag(victim.handoffId));
    expect(asked).not.toContain(code);
    expect(exchangeCalls(bridge, '/sandbox/evil')).toBe(0);
    expect(exchangeCalls(bridge, '/sandbox')).toBe(0);
    expect((await bridge.api.getHandoff(evil.handoffId)).attempts).toBe(0);
    expect((await bridge.api.getHandoff(victim.handoffId)).attempts).toBe(0);

    await bridge.reply(thread, 'alice', `${handoffTag(victim.handoffId)} ${code}`);
    expect((await victimJob.waitUntilFinished(agent.events, 15_000)).status).toBe(200);
    expect(exchangeCalls(bridge, '/sandbox/evil')).toBe(0);
    expect(await bridge.api.getHandoff(evil.handoffId)).toMatchObject({ status: 'awaiting_human', attempts: 0 });
  });

  it('counts a wrong code on the handoff that received it, and only there', async () => {
    const { thread, evil, victim } = await twoHandoffs('wrong');
    await bridge.reply(thread, 'alice', `${handoffTag(victim.handoffId)} ${wrong}`);
    await waitFor(
      'one attempt on the victim’s',
      async () => (await bridge.api.getHandoff(victim.handoffId)).attempts === 1,
    );
    expect((await bridge.api.getHandoff(evil.handoffId)).attempts).toBe(0);
    expect(exchangeCalls(bridge, '/sandbox/evil')).toBe(0);
    const notice = await waitFor('wrong-code notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('That code did not work')),
    );
    expect(notice).toContain(`for ${handoffTag(victim.handoffId)}`);
  });

  it('needs no tag when only one handoff expects the reply’s shape (a 6-digit emailed code)', async () => {
    const before = exchangeCalls(bridge, '/sandbox/evil');
    const { thread, victimJob } = await twoHandoffs('shape', '/sandbox/authmd', { approverEmail: 'alice@example.com' });
    const otp = await codeFromMailbox(`${bridge.url}/sandbox/authmd`, 'alice@example.com');
    await bridge.reply(thread, 'alice', `the code is ${otp.slice(0, 3)} ${otp.slice(3)}`);
    expect((await victimJob.waitUntilFinished(agent.events, 15_000)).status).toBe(200);
    expect(exchangeCalls(bridge, '/sandbox/evil')).toBe(before);
  });

  it('names nothing when the tag is not waiting here, and never falls back to a neighbour', async () => {
    const { thread, evil, victim } = await twoHandoffs('stale-tag');
    await bridge.reply(
      thread,
      'alice',
      `#h-${handoffTag(victim.handoffId).slice(3, 7) === 'ffff' ? 'fffe' : 'ffff'} ${wrong}`,
    );
    await waitFor('the answer', async () =>
      (await botTexts(bridge, thread)).some((t) => t.startsWith('No request waiting in this thread has the tag')),
    );
    expect((await bridge.api.getHandoff(evil.handoffId)).attempts).toBe(0);
    expect((await bridge.api.getHandoff(victim.handoffId)).attempts).toBe(0);
  });

  it('picks the one the author may answer when the shapes do not decide', async () => {
    const thread = freshThread('owner');
    await agent.run(thread, ['mallory'], 'agent-evil', `${bridge.url}/sandbox/evil`);
    const evil = await requestIn(bridge, thread, 1);
    const job = await agent.run(thread, ['alice'], 'agent-victim', `${bridge.url}/sandbox`);
    const victim = await requestIn(bridge, thread, 2);
    await bridge.reply(thread, 'alice', await approveOnSandbox(victim.url));
    expect((await job.waitUntilFinished(agent.events, 15_000)).status).toBe(200);
    expect(exchangeCalls(bridge, '/sandbox/evil')).toBe(0);
    expect((await bridge.api.getHandoff(evil.handoffId)).attempts).toBe(0);
  });
});

describe('Slack: the code modal carries its handoff', () => {
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  beforeAll(async () => {
    h = await startSlackTestBridge('one-reply-slack', { env: { HANDOFF_POLL_INTERVAL_MS: '600000' } });
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  it('sends what is submitted in A’s modal to A only, even when B expects the same shape', async () => {
    const thread = h.newThread();
    const t = parseSlackThread(thread);
    const jobA = await agent.run(thread, [alice.id], 'agent-a');
    const a = await h.threadApproval(thread);
    await agent.run(thread, [alice.id], 'agent-b');
    const bMessage = await waitFor('B’s approval', () =>
      h.slack.state
        .thread(t.channel, t.threadTs)
        .find((m) => m.botId && /Login approval needed/.test(shownText(m)) && !shownText(m).includes(a.handoffId)),
    );
    const b = /hf_[0-9a-f]+/.exec(shownText(bMessage))![0];
    const links = await waitFor('both private links', () => {
      const found = h.slack.state.ephemeral
        .filter((e) => e.user === alice.id && e.threadTs === t.threadTs)
        .map((e) => shownText(e));
      return found.length >= 2 ? found : undefined;
    });
    const urlOf = (id: string) =>
      /https?:\/\/[^\s<>|]+\/sandbox\/authorize\/[^\s<>|]+/.exec(links.find((l) => l.includes(id))!)![0];
    const codeA = await h.bridge.approve(urlOf(a.handoffId));

    const opened = h.slack.state.views.length;
    await h.postInteraction(
      pasteCodeClick({
        value: pasteButtonValue(a.message.blocks),
        user: alice.id,
        channel: t.channel,
        threadTs: t.threadTs,
        messageTs: a.message.ts,
      }),
    );
    const view = await waitFor('A’s modal', () => h.slack.state.views[opened]);
    await h.postInteraction(
      codeSubmission({
        viewId: view.id,
        privateMetadata: String(view.view.private_metadata),
        code: codeA,
        user: alice.id,
      }),
    );
    expect((await jobA.waitUntilFinished(agent.events, 15_000)).status).toBe(200);
    expect(await h.bridge.api.getHandoff(b)).toMatchObject({ status: 'awaiting_human', attempts: 0 });
    expect(h.botTexts(thread).some((t2) => t2.startsWith('Several login requests'))).toBe(false);
  });
});

describe('Linear: a reply under an approval comment answers that request', () => {
  let t: LinearTestSetup;
  beforeAll(async () => {
    t = await startLinearTestBridge('one-reply-linear');
  });
  afterAll(async () => t?.close());

  it('routes by the parent comment; the same code at the top level is asked about', async () => {
    const issue = t.newIssue();
    await t.agent.run(`linear:${issue.identifier}`, [], 'agent-a');
    const first = await t.approvalOn(issue);
    const jobB = await t.agent.run(`linear:${issue.identifier}`, [], 'agent-b');
    const second = await waitFor('the second approval', () =>
      t
        .botComments(issue)
        .find((c) => c.id !== first.comment.id && /\/sandbox\/authorize\//.test(c.body) && !c.parentId),
    );
    const secondUrl = /\]\(<?(https?:\/\/[^)>\s]+)>?\)/.exec(second.body)![1]!;
    const secondId = /handoff `(hf_[0-9a-f]+)`/.exec(second.body)![1]!;
    const code = await t.bridge.approve(secondUrl);

    await t.deliver(t.comment(issue, t.alice, code));
    await waitFor('the question', () =>
      t.botComments(issue).find((c) => c.body.startsWith('Several login requests wait')),
    );
    expect((await t.bridge.api.getHandoff(first.handoffId)).attempts).toBe(0);

    await t.deliver(t.comment(issue, t.alice, code, second.id));
    expect((await jobB.waitUntilFinished(t.agent.events, 15_000)).handoffId).toBe(secondId);
    expect(await t.bridge.api.getHandoff(first.handoffId)).toMatchObject({ status: 'awaiting_human', attempts: 0 });
  });
});

describe('GitHub: a quote reply carries the tag of the comment it quotes', () => {
  let world: GithubWorld;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  beforeAll(async () => {
    world = await startGithubWorld('one-reply-gh');
    agent = await startTestAgent(world.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await world?.close();
  });

  it('finishes the quoted request and leaves the other alone', async () => {
    await agent.run(world.thread(3), [], 'agent-a');
    const first = await world.approvalIn(3);
    const jobB = await agent.run(world.thread(3), [], 'agent-b');
    const second = await waitFor('the second approval', () =>
      world.botComments(3).find((c) => c.id !== first.comment.id && /\/sandbox\/authorize\//.test(c.body)),
    );
    const code = await world.bridge.approve(/https?:\/\/[^\s>]+\/sandbox\/authorize\/[^\s>]+/.exec(second.body)![0]);
    // GitHub's "Quote reply" quotes what the comment shows (its hidden marker is not shown);
    // the person adds the code below.
    const quoted = second.body
      .split('\n')
      .filter((l) => !l.startsWith('<!--'))
      .map((l) => `> ${l}`)
      .join('\n');
    await world.comment(3, 'alice', `${quoted}\n\nHere: ${code}`);
    expect((await jobB.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
    expect(await world.bridge.api.getHandoff(first.handoffId)).toMatchObject({ status: 'awaiting_human', attempts: 0 });
  });
});
