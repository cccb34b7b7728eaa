import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubMentions, githubReferences, readMarkdown } from '../helpers/rendered-markup.js';
import { runDriverNow } from '../helpers/driver-run.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Reminders and warnings (issue #14) repeat the agent's words in the thread: hostile text in
 * every field stays text. On GitHub the reminder @-mentions the named approvers — and nobody
 * else, whatever the title says — and makes no link, image, heading or reference.
 */
describe('hostile text in reminders', () => {
  let world: GithubWorld;
  let offsetMs = 0;
  beforeAll(async () => {
    world = await startGithubWorld('gh-reminders', {
      webhooks: true,
      polling: false,
      clock: { now: () => Date.now() + offsetMs },
    });
  });
  afterAll(async () => world?.close());

  it('renders the title and agent as code and mentions only the approvers', async () => {
    const hostile =
      '@octo-org/admins **urgent** [approve](https://evil.example) <img src=x> #1 `x` ![i](https://evil.example/i.png)';
    const created = await world.bridge.api.createApproval({
      thread: world.thread(21),
      agent: { id: 'gh-reminder-agent' },
      action: { title: hostile },
      approvers: ['alice', 'Codertocat'],
      expiresInMs: 3_600_000,
      remind: { afterMs: 60_000, max: 1 },
    });
    await waitFor('the request comment', () => world.botComments(21).find((c) => c.body.includes('🛂')));
    offsetMs = 61_000;
    await runDriverNow(world.bridge, created.id);
    offsetMs = 56 * 60_000;
    await runDriverNow(world.bridge, created.id);
    const comments = await waitFor('the reminder and the warning', () => {
      const found = world.botComments(21).filter((c) => c.body.includes('⏰') || c.body.includes('⏳'));
      return found.length === 2 ? found : undefined;
    });
    for (const { body } of comments) {
      const md = readMarkdown(body);
      expect(md.links).toEqual([]);
      expect(md.images).toEqual([]);
      expect(md.structure).toEqual([]);
      expect(md.headings).toEqual([]);
      expect(md.html).toEqual(['<!-- handoff-bridge -->']);
      expect(githubMentions(md.text).sort()).toEqual(['Codertocat', 'alice']);
      expect(githubReferences(md.text)).toEqual([]);
      expect(md.code.some((c) => c.includes('@octo-org/admins **urgent**'))).toBe(true);
    }
  });

  it('an escalation mentions only the people it adds, in both threads, and the rest stays text', async () => {
    offsetMs = 0;
    const hostile = '@octo-org/admins <!-- x --> [go](https://evil.example) #2';
    const created = await world.bridge.api.createApproval({
      thread: world.thread(22),
      agent: { id: 'gh-escalation-agent' },
      action: { title: hostile },
      approvers: ['Codertocat'],
      expiresInMs: 3_600_000,
      escalate: [{ afterMs: 120_000, approvers: ['alice'], thread: world.thread(23) }],
    });
    await waitFor('the request comment', () => world.botComments(22).find((c) => c.body.includes('🛂')));
    offsetMs = 121_000;
    await runDriverNow(world.bridge, created.id);
    const here = await waitFor('the escalation', () => world.botComments(22).find((c) => c.body.includes('⤴️')));
    const there = await waitFor('the on-call notice', () => world.botComments(23).find((c) => c.body.includes('⤴️')));
    for (const { body } of [here, there]) {
      const md = readMarkdown(body);
      // The one link is the bridge's own, back to the issue where it waits (the API's html_url).
      expect(md.links).toEqual(body === there.body ? ['https://github.example/Codertocat/Hello-World/issues/22'] : []);
      expect(md.images).toEqual([]);
      expect(md.structure).toEqual([]);
      expect(md.html).toEqual(['<!-- handoff-bridge -->']);
      expect(githubMentions(md.text)).toEqual(['alice']);
      expect(githubReferences(md.text)).toEqual([]);
    }
  });
});
