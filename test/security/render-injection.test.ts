import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { githubLogin, renderGithubComment } from '../../adapters/github/github-format.js';
import { renderMessage as renderLinear } from '../../adapters/linear/linear-format.js';
import { renderSlackMessage } from '../../adapters/slack/slack-format.js';
import { isSlackUserId } from '../../adapters/slack/slack-mrkdwn.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { escapeHtml } from '../../src/core/html.js';
import { approvalLink, renderPlainText, safeLogoUrl, type OutboundMessage } from '../../src/core/messages.js';
import { say } from '../../src/core/sentence.js';
import { approvalMessage } from '../../src/engine/approval-message.js';
import { notices } from '../../src/engine/notices.js';
import {
  forbiddenCharacters,
  githubMentions,
  githubReferences,
  readMarkdown,
  readMrkdwn,
  slackTextObjects,
  slackValues,
} from '../helpers/rendered-markup.js';

/**
 * Every message kind, on every platform, with hostile values in every field an agent, a
 * service or a person controls: the output, read back with a real markdown parser (GitHub,
 * Linear) or Slack's `<…>` tokenizer, holds exactly the links, images and mentions the bridge
 * meant — the approval link, the service's logo beside its label, the named approvers — and the
 * message keeps its shape (no extra paragraph, heading, list, quote, table or code block).
 */

const fragments = [
  '[x](http://e.example)',
  '![i](http://e.example/i.png)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<!-- c -->',
  '@team',
  '@org/team',
  '@ceo',
  '# h',
  '## h',
  '```',
  '`',
  '``',
  '\n\n',
  '\n',
  '\r\n',
  '    code',
  '> quote',
  '- item',
  '1. item',
  '| a | b |\n|---|---|\n| c | d |',
  '[ref]: http://e.example',
  '[ref]',
  '[^1]',
  '---',
  '===',
  '*',
  '_',
  '~~',
  '\\',
  '&amp;',
  '&#64;team',
  '&lt;',
  '<@U012ABCDEF>',
  '<!here>',
  '<!channel>',
  '<!subteam^S1>',
  '<#C0123ABC>',
  '<http://e.example|Approve>',
  'U012ABC3DE',
  'W0ENT00001',
  'www.evil.example',
  'http://evil.example/x',
  'https://accounts.google.com.evil.example/login',
  'mail@evil.example',
  'javascript:alert(1)',
  '#123',
  'org/repo#1',
  'GH-12',
  ':smile:',
  '\u202e',
  '\u2066',
  '\u200b',
  '\u0000',
  '\u0085',
  '\u2028',
  '\udc00',
  '\ud83d',
  '\u{e0041}',
  'x',
];

const hostile = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 8 })
      .map((parts) => parts.join('')),
  },
  // Longer than every cap (the longest, an error message, is 600 characters).
  { weight: 1, arbitrary: fc.constantFrom(...fragments).map((f) => f.repeat(Math.ceil(700 / f.length))) },
);
const approverIds = fc.array(fc.oneof(fc.constantFrom('U0ALICE001', 'alice', 'bob-b'), hostile), { maxLength: 4 });
const url = fc.oneof(
  fc.constant('https://accounts.google.com.evil.example/authorize/ar_1'),
  hostile.map((h) => `https://svc.example/authorize/${h}`),
  hostile,
  fc.constantFrom('javascript:alert(1)', 'data:text/html,<b>x</b>', 'http://127.0.0.1:8080/a?b=(c)&d=\\e`f'),
);

const recordArb = fc.record({
  service: fc.oneof(fc.constant('https://api.svc.example'), hostile),
  serviceName: fc.option(hostile, { nil: undefined }),
  serviceLogoUrl: fc.option(
    fc.oneof(
      fc.constant('https://cdn.example/logo.png'),
      url.map((u) => `${u}.png`),
    ),
    { nil: undefined },
  ),
  agentId: hostile,
  scopes: fc.array(hostile, { maxLength: 14 }),
  approvers: approverIds,
  approvalUrl: url,
  userCode: fc.option(fc.oneof(fc.constant('WDJB-MJHT'), hostile), { nil: undefined }),
  answer: fc.constantFrom('finish_code' as const, 'email_code' as const, 'done' as const),
  note: fc.option(
    hostile.map((h) => say`Note: ${h}`),
    { nil: undefined },
  ),
  previousHandoffId: fc.option(hostile, { nil: undefined }),
});

function messagesOf(
  r: Omit<Partial<HandoffRecord>, 'note'> & { note?: HandoffRecord['note'] },
  extra: { text: string; author: string; name: string; privately: boolean },
): OutboundMessage[] {
  const record = {
    id: 'hf_0123456789abcdef01234567',
    thread: 'local:x',
    expiresAt: Date.UTC(2026, 10, 1),
    attempts: 0,
    ...r,
  } as HandoffRecord;
  const approval = approvalMessage(record, [say`↻ ${extra.text}`]);
  return [
    approval,
    { ...approval, linkSentPrivately: extra.privately },
    notices.completed(record, record.scopes, extra.privately),
    notices.wrongCode(record, extra.text, 2),
    notices.failed(record, extra.text),
    notices.expired(record),
    notices.cancelled(record, extra.text),
    notices.refused(record, { id: extra.author, name: extra.name }),
    notices.refused(record, { id: 'U0MALLORY1' }, say`Only ${extra.text} may answer.`),
    notices.hintOpenLink(record),
    notices.polling(record),
  ];
}

/** The one link the bridge means: the approval link, when it is shown at all. */
const meantLink = (msg: OutboundMessage) =>
  msg.kind === 'approval_request' && !msg.linkSentPrivately ? approvalLink(msg)?.href : undefined;

function checkGithub(msg: OutboundMessage): void {
  const body = renderGithubComment(msg, 'write');
  const md = readMarkdown(body);
  const link = meantLink(msg);
  expect(md.links).toEqual(link ? [link] : []);
  expect(md.images).toEqual([]);
  expect(md.structure).toEqual([]);
  const logo = msg.kind === 'approval_request' ? safeLogoUrl(msg) : undefined;
  expect(md.html).toEqual([
    '<!-- handoff-bridge -->',
    ...(logo ? [`<img src="${escapeHtml(logo)}" alt="" width="20" height="20">`] : []),
  ]);
  const meantMentions =
    msg.kind === 'approval_request' ? msg.approvers.slice(0, 12).flatMap((a) => githubLogin(a) ?? []) : [];
  expect(githubMentions(md.text).sort()).toEqual(meantMentions.sort());
  expect(githubReferences(md.text)).toEqual([]);
  if (msg.kind === 'notice') {
    expect(md.blocks).toEqual(['html', 'paragraph']);
    expect(md.headings).toEqual([]);
  } else {
    expect(md.headings).toEqual([3]);
    expect(md.blocks).toEqual(['html', 'heading', ...Array(body.split('\n\n').length - 1).fill('paragraph')]);
  }
  for (const code of md.code) expect(code).not.toMatch(forbiddenCharacters);
  expect(body.length).toBeLessThan(20_000);
}

function checkLinear(msg: OutboundMessage): void {
  const body = renderLinear(
    msg,
    { kind: 'named', names: msg.kind === 'approval_request' ? msg.approvers : [] },
    Date.UTC(2026, 9, 1),
  );
  const md = readMarkdown(body);
  const link = meantLink(msg);
  expect(md.links).toEqual(link ? [link] : []);
  expect(md.images).toEqual([]);
  expect(md.html).toEqual([]);
  expect(md.structure).toEqual([]);
  expect(md.headings).toEqual([]);
  expect(md.blocks).toEqual(Array(body.split('\n\n').length).fill('paragraph'));
  expect(githubMentions(md.text)).toEqual([]);
  expect(githubReferences(md.text)).toEqual([]);
  for (const code of md.code) expect(code).not.toMatch(forbiddenCharacters);
}

/** Slack: the people the bridge itself resolved (approvers, the refused author) may be mentioned; nobody else. */
function checkSlack(msg: OutboundMessage, approvers: readonly string[], refusedAuthor: string): void {
  const content = renderSlackMessage(msg, { thread: 'slack:C0THREAD01/1700000000.000100', codeModal: true });
  const people = new Set([...approvers.slice(0, 12), 'U0MALLORY1', refusedAuthor].filter(isSlackUserId));
  const objects = [{ type: 'mrkdwn', text: content.text, verbatim: true }, ...slackTextObjects(content.blocks)];
  for (const obj of objects) {
    expect(obj.text.length).toBeLessThanOrEqual(3_000);
    if (obj.type !== 'mrkdwn') continue;
    expect(obj.verbatim).toBe(true);
    const facts = readMrkdwn(obj.text);
    expect(facts.strayBrackets || facts.strayAmpersand, obj.text).toBe(false);
    for (const token of facts.tokens) {
      const meant =
        (token.startsWith('@') && people.has(token.slice(1))) ||
        /^!date\^\d+\^\{date_short_pretty\} at \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(token);
      expect(meant, `unexpected <${token}> in ${obj.text}`).toBe(true);
    }
  }
  const link = meantLink(msg);
  expect(slackValues(content.blocks, 'url')).toEqual(link && link.length <= 3_000 ? [link] : []);
  const logo = msg.kind === 'approval_request' ? safeLogoUrl(msg) : undefined;
  for (const image of slackValues(content.blocks, 'image_url')) expect(image).toBe(logo);
}

function checkPlain(msg: OutboundMessage): void {
  const text = renderPlainText(msg);
  const lines = text.split('\n');
  for (const line of lines) expect(line).not.toMatch(forbiddenCharacters);
  const notes = msg.kind === 'approval_request' ? (msg.notes?.length ?? 0) : 0;
  expect(lines).toHaveLength(msg.kind === 'notice' ? 1 : 5 + notes);
}

describe('rendering hostile values (property test, real parsers)', () => {
  it('holds exactly the links, images and mentions the bridge meant, on GitHub, Linear, Slack and the local page', () => {
    fc.assert(
      fc.property(recordArb, hostile, hostile, hostile, fc.boolean(), (record, text, author, name, privately) => {
        for (const msg of messagesOf(record, { text, author, name, privately })) {
          checkGithub(msg);
          checkLinear(msg);
          checkSlack(msg, record.approvers, author);
          checkPlain(msg);
        }
      }),
      { seed: 20_261_111, numRuns: 40 },
    );
  });
});
