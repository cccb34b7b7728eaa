import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import type { OutboundMessage } from '../../src/core/messages.js';
import { say } from '../../src/core/sentence.js';
import { approvalMessage } from '../../src/engine/approval-message.js';
import { notices } from '../../src/engine/notices.js';
import { startPlatformFakes, type PlatformFakes } from '../helpers/platform-fakes.js';
import {
  githubMentions,
  githubReferences,
  readMarkdown,
  readMrkdwn,
  slackTextObjects,
  slackValues,
} from '../helpers/rendered-markup.js';

/**
 * Issue #11, "injection": on GitHub and Linear, service- and agent-chosen text (service name,
 * error message, agent id, scopes, user code, approval URL) rendered as live links, headings,
 * images and @team mentions, and a blank line broke out of a code span; Slack turned `U…` ids
 * in agent text into real mentions. Here the same text goes into every field, through each
 * platform's SDK to its fake, and what the platform stored is read back with a real parser.
 */
const attack = [
  '# Security notice',
  '[Approve here](https://evil.example/login) ![logo](https://evil.example/p.png) <img src=https://evil.example/x.png>',
  '@acme/security-team @ceo please approve #1 acme/infra#2 GH-3',
  'www.evil.example https://evil.example mail@evil.example',
  '`code`\n\n> quote\n- list\n| a | b |\n|---|---|\n[r]: https://evil.example',
  '<@U0ALICE001> <!here> <!channel> <#C0SECURITY1> <https://evil.example|Approve> U0ALICE001',
  '\u202eevil\u202c \u2066x\u2069 \u200b\u{e0041}',
].join(' ');

const record: HandoffRecord = {
  id: 'hf_0123456789abcdef0123inje',
  kind: 'login',
  status: 'awaiting_human',
  version: 2,
  service: 'https://api.svc.example',
  serviceName: attack,
  serviceLogoUrl: 'https://api.svc.example/logo.svg?x="><script>alert(1)</script>',
  protocol: 'device',
  thread: 'local:x',
  approvers: [],
  agentId: attack,
  correlationId: 'c1',
  scopes: [attack, 'read'],
  createdAt: 0,
  updatedAt: 0,
  expiresAt: Date.now() + 10 * 60_000,
  approvalUrl: 'https://api.svc.example/device?x=[y](https://evil.example)&z=<b>',
  answer: 'done',
  userCode: attack,
  note: say`The service says: ${attack}`,
  attempts: 0,
};

const messages = (): OutboundMessage[] => [
  approvalMessage(record, [say`↻ ${attack}`]),
  notices.failed(record, attack),
  notices.wrongCode(record, attack, 1),
  notices.cancelled(record, attack),
  notices.refused(record, { id: attack, name: attack }, say`Only ${attack} may answer.`),
  notices.completed(record, [attack], true),
];

const approvalHref = 'https://api.svc.example/device?x=[y](https://evil.example)&z=%3Cb%3E';

describe('injection in every field, through the platforms’ SDKs and fakes', () => {
  let p: PlatformFakes;
  beforeAll(async () => {
    p = await startPlatformFakes('security-injection');
  });
  afterAll(async () => p?.close());

  it('GitHub: no link but the approval link, no image, heading, list, quote, table, mention or reference from foreign text', async () => {
    const { adapter, thread } = p.github;
    for (const msg of messages()) await adapter.post(adapter.parseThread(thread), msg);
    const bodies = p.github.bodies();
    expect(bodies).toHaveLength(messages().length);
    for (const [i, body] of bodies.entries()) {
      const md = readMarkdown(body);
      expect(md.links).toEqual(i === 0 ? [approvalHref] : []);
      expect(md.images).toEqual([]);
      // The one image is the service's logo beside its label, its URL encoded inside the attribute.
      const logo =
        '<img src="https://api.svc.example/logo.svg?x=%22%3E%3Cscript%3Ealert(1)%3C/script%3E" alt="" width="20" height="20">';
      expect(md.html).toEqual(['<!-- handoff-bridge -->', ...(i === 0 ? [logo] : [])]);
      expect(md.structure).toEqual([]);
      expect(md.headings).toEqual(i === 0 ? [3] : []);
      expect(githubMentions(md.text)).toEqual([]);
      expect(githubReferences(md.text)).toEqual([]);
      // The blank line, the backticks and the controls stayed inside one value.
      expect(md.code.every((c) => !/[\n\u202e\u2066\u200b]/u.test(c))).toBe(true);
      if (i > 0) expect(md.blocks).toEqual(['html', 'paragraph']);
    }
    // An invalid user code is never shown as one (the device protocol refuses it at the start).
    expect(bodies[0]).toContain('Open the link and approve, then reply "done" here.');
  });

  it('Linear: the same, as the comment body Linear stored', async () => {
    const { adapter, thread } = p.linear;
    for (const msg of messages()) await adapter.post(adapter.parseThread(thread), msg);
    const bodies = p.linear.bodies();
    expect(bodies).toHaveLength(messages().length);
    for (const [i, body] of bodies.entries()) {
      const md = readMarkdown(body);
      expect(md.links).toEqual(i === 0 ? [approvalHref] : []);
      expect(md.images).toEqual([]);
      expect(md.html).toEqual([]);
      expect(md.structure).toEqual([]);
      expect(md.headings).toEqual([]);
      expect(githubMentions(md.text)).toEqual([]);
      if (i > 0) expect(md.blocks).toEqual(['paragraph']);
    }
  });

  it('Slack: no mention, channel ping or link from foreign text — U0ALICE001 in agent text stays text', async () => {
    const { adapter, thread } = p.slack;
    for (const msg of messages()) await adapter.post(adapter.parseThread(thread), msg);
    const posted = p.slack.messages();
    expect(posted).toHaveLength(messages().length);
    for (const message of posted) {
      for (const obj of [{ type: 'mrkdwn', text: message.text, verbatim: true }, ...slackTextObjects(message.blocks)]) {
        if (obj.type !== 'mrkdwn') continue;
        expect(obj.verbatim).toBe(true);
        const facts = readMrkdwn(obj.text);
        expect(facts.strayBrackets || facts.strayAmpersand).toBe(false);
        expect(facts.tokens.filter((t) => !t.startsWith('!date^'))).toEqual([]);
      }
    }
    expect(slackValues(posted[0]!.blocks, 'url')).toEqual([approvalHref]);
    // An SVG logo is no image Slack shows; nothing else may be one.
    expect(
      slackValues(
        posted.map((m) => m.blocks),
        'image_url',
      ),
    ).toEqual([]);
  });
});
