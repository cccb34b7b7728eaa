import { describe, expect, it } from 'vitest';
import { renderGithubComment } from '../../adapters/github/github-format.js';
import { renderMessage as renderLinear } from '../../adapters/linear/linear-format.js';
import { renderNotice as renderSlackNotice } from '../../adapters/slack/slack-format.js';
import { renderPlainText, type NoticeMessage } from '../../src/core/messages.js';
import { say } from '../../src/core/sentence.js';

/**
 * The link back from an escalation's notice in another thread to the one where the handoff
 * waits (issue #14): each platform shows it as a link of the bridge's own label, the URL checked
 * again at render time, never pasted as markup.
 */
const elsewhere = (threadLink?: string): NoticeMessage => ({
  kind: 'notice',
  handoffId: 'hf_0123/escalation',
  event: 'waiting',
  text: say`⤴️ You are asked to help.`,
  ...(threadLink !== undefined ? { threadLink } : {}),
});
const permalink = 'https://acme.slack.com/archives/C0123/p1700000000000100';
const renderers = {
  slack: (m: NoticeMessage) => JSON.stringify(renderSlackNotice(m)),
  github: (m: NoticeMessage) => renderGithubComment(m, 'write'),
  linear: (m: NoticeMessage) => renderLinear(m, { kind: 'named', names: [] }, Date.now()),
};

describe('the link back to the thread', () => {
  it('is a Slack link button, and a markdown link of the bridge’s label on GitHub and Linear', () => {
    const slack = renderSlackNotice(elsewhere(permalink));
    expect(slack.blocks?.at(-1)).toMatchObject({
      type: 'actions',
      elements: [
        { type: 'button', url: permalink, text: { type: 'plain_text', text: 'Open the thread where it waits' } },
      ],
    });
    expect(renderers.github(elsewhere(permalink))).toContain(`[Open the thread where it waits](<${permalink}>)`);
    expect(renderers.linear(elsewhere(permalink))).toContain(`[Open the thread where it waits](<${permalink}>)`);
  });

  it('is left out when absent or not http(s), and cannot break out of its markdown', () => {
    for (const [name, render] of Object.entries(renderers)) {
      for (const bad of [
        'javascript:alert(1)',
        'data:text/html,x',
        'not a url',
        `https://x.example/${'a'.repeat(2_100)}`,
      ])
        expect(render(elsewhere(bad)), `${name}: ${bad.slice(0, 30)}`).not.toContain('Open the thread');
      expect(render(elsewhere())).not.toContain('Open the thread');
    }
    const tricky = 'https://evil.example/a>b)c](https://phish.example)<img src=x>';
    const md = renderers.github(elsewhere(tricky));
    const line = md.split('\n').find((l) => l.includes('Open the thread'))!;
    // One link whose destination is the whole (percent-encoded) URL: no second link, no tag.
    expect(line).toMatch(/^\[Open the thread where it waits\]\(<https:\/\/evil\.example\/[^<>\s]*>\)$/);
    expect(line).not.toContain('<img');
  });

  it('adds nothing to the plain-text rendering (the local page shows it as the post’s link)', () => {
    expect(renderPlainText(elsewhere(permalink))).not.toContain(permalink);
  });
});
