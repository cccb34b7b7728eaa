import { describe, expect, it } from 'vitest';
import { extractAnswers, mentionsLink, pickAnswer } from '../../src/core/finish-code.js';
import { namedHandoffs, withoutHandoffNames } from '../../src/core/handoff-tag.js';
import { answerOf, looksLikeAnswer, mentionsApprovalLink, parseReply } from '../../src/core/parsed-reply.js';

const aae = `aae_${'ab12'.repeat(12)}`;

describe('parseReply reads a reply once into everything routing needs', () => {
  // What routing read before, text by text and handoff by handoff: the one parse must agree.
  it.each([
    '123 456',
    `here: ${aae}`,
    `\`${aae}\`.`,
    `#h-4f2a ${aae}`,
    'hf_4f2a0000000000000000000b done',
    '> Tag #h-cccc: if other requests wait…\n\n654321',
    '&gt; Tag #h-dddd\nok done',
    'code: sk_live_abcdefghijklmnop1234',
    `${aae} and aae_${'cd34'.repeat(12)}`,
    '<https://svc.example/authorize/x|the link>',
    'see you after lunch',
    'Approved!',
    '',
  ])('%j', (raw) => {
    const parsed = parseReply(raw);
    const bare = withoutHandoffNames(raw);
    expect({
      finishCodes: parsed.finishCodes,
      oneTimeCodes: parsed.oneTimeCodes,
      saysDone: parsed.saysDone,
    }).toEqual(extractAnswers(bare));
    expect(parsed.named).toEqual(namedHandoffs(raw));
    for (const kind of ['finish_code', 'email_code', 'done'] as const)
      expect(answerOf(parsed, kind), kind).toBe(pickAnswer(bare, kind));
    expect(mentionsApprovalLink(parsed, 'https://svc.example/authorize/x')).toBe(
      mentionsLink(raw, 'https://svc.example/authorize/x'),
    );
  });

  it('never reads a tag or a handoff id as a code', () => {
    const parsed = parseReply('#h-1234 hf_123456000000000000000000');
    expect(parsed.named).toEqual({ tags: ['#h-1234'], ids: ['hf_123456000000000000000000'] });
    expect(parsed.oneTimeCodes).toEqual([]);
    expect(looksLikeAnswer(parsed)).toBe(false);
  });
});

describe('approve and deny words (for approval handoffs)', () => {
  it.each([
    ['approve', { kind: 'approve' }],
    ['Approved!', { kind: 'approve' }],
    ['LGTM', { kind: 'approve' }],
    ['lgtm 👍', { kind: 'approve' }],
    ['/approve', { kind: 'approve' }],
    ['**APPROVE**', { kind: 'approve' }],
    ['approve\nand thanks for asking', { kind: 'approve' }],
    ['#h-4f2a approve', { kind: 'approve' }],
    ['> Approve or deny #h-4f2a\n\napprove', { kind: 'approve' }],
    ['deny too broad', { kind: 'deny', reason: 'too broad' }],
    ['Reject: wrong repository', { kind: 'deny', reason: 'wrong repository' }],
    ['/deny - not on a Friday', { kind: 'deny', reason: 'not on a Friday' }],
    ['/REJECT', { kind: 'deny', reason: '' }],
    ['deny', { kind: 'deny', reason: '' }],
    ['#h-4f2a deny not now\nmaybe Monday', { kind: 'deny', reason: 'not now' }],
  ])('%j → %j', (text, decision) => {
    expect(parseReply(text).decision).toEqual(decision);
  });

  it.each([
    'approve this?',
    'I approve',
    'looks fine\napprove',
    'denying nothing',
    'rejected',
    'deny_all',
    '> approve',
    'lgtm-ish',
    'approved it',
    '',
  ])('%j is no decision', (text) => {
    expect(parseReply(text).decision).toBeUndefined();
  });

  it('keeps the reason as the platform delivered it, normalised and bounded', () => {
    // Kept as text: whoever shows a reason renders it as a foreign value (never markup).
    expect(parseReply('deny &lt;b&gt;no&lt;/b&gt; @channel').decision).toEqual({
      kind: 'deny',
      reason: '<b>no</b> @channel',
    });
    expect(parseReply('deny <https://docs.example/why|why>').decision).toEqual({
      kind: 'deny',
      reason: 'https://docs.example/why',
    });
    const long = parseReply(`deny ${'x'.repeat(10_000)}`).decision;
    expect(long?.kind === 'deny' && long.reason.length).toBe(600);
  });

  it('"approved" is also a login\'s "done"; a deny is no login answer at all', () => {
    expect(parseReply('approved')).toMatchObject({ saysDone: true, decision: { kind: 'approve' } });
    expect(looksLikeAnswer(parseReply('deny 123456 is not mine'))).toBe(true); // the code is still a code
    expect(looksLikeAnswer(parseReply('deny too broad'))).toBe(false);
  });
});

describe('asking for a fresh link (issue #14)', () => {
  it.each(['new link', 'New link please', '/newlink', '**fresh link**', '#h-4f2a new link', 'new   link.'])(
    '%s asks for one',
    (text) => expect(parseReply(text).asksNewLink).toBe(true),
  );
  it.each(['the new link does not open', '> new link', 'link', 'new link for aae_abc and more', ''])(
    '%s does not',
    (text) => expect(parseReply(text).asksNewLink).toBe(false),
  );
});
