import { describe, expect, it } from 'vitest';
import { readComment, replyFromComment } from '../../adapters/github/github-comment.js';
import { renderGithubComment } from '../../adapters/github/github-format.js';
import { escapeMarkdownText } from '../../src/core/markdown-text.js';
import { say } from '../../src/core/sentence.js';
import { issueCommentPayload } from '../fixtures/github/issue-comment.js';

const where = { owner: 'Codertocat', repo: 'Hello-World', number: 1 };
const context = { self: { appId: 4242, login: 'handoff-bot' }, deliveryId: 'd-1', receivedAt: 1, asEdit: false };
const example = (over: { body?: string; login?: string } = {}) => {
  const payload = issueCommentPayload({
    commentId: 501,
    issueNumber: 1,
    body: over.body ?? 'aae_' + 'ab'.repeat(24),
    login: over.login ?? 'Codertocat',
  });
  return { payload, comment: readComment(payload.comment)! };
};

describe('GitHub comments as replies', () => {
  it('turns a person’s comment from a real webhook payload into a reply', () => {
    const { comment } = example();
    const verdict = replyFromComment(comment, where, context);
    expect(verdict).toEqual({
      kind: 'reply',
      reply: {
        platform: 'github',
        thread: 'github:codertocat/hello-world#1',
        author: { id: 'Codertocat', name: 'Codertocat' },
        text: comment.body,
        messageRef: { platform: 'github', thread: 'github:codertocat/hello-world#1', id: '501' },
        deliveryId: 'd-1',
        receivedAt: 1,
      },
    });
  });

  it('ignores the bridge’s own comments, bots, deleted accounts and empty bodies', () => {
    const { payload, comment } = example();
    expect(replyFromComment({ ...comment, body: '<!-- handoff-bridge -->\nhello' }, where, context)).toEqual({
      kind: 'ignored',
      reason: 'own_comment',
    });
    expect(replyFromComment({ ...comment, viaAppId: 4242 }, where, context)).toEqual({
      kind: 'ignored',
      reason: 'own_comment',
    });
    expect(replyFromComment({ ...comment, user: { login: 'Handoff-Bot', type: 'User' } }, where, context)).toEqual({
      kind: 'ignored',
      reason: 'own_comment',
    });
    const bot = { ...(payload.comment as object), user: { login: 'dependabot[bot]', type: 'Bot' } };
    expect(replyFromComment(readComment(bot)!, where, context)).toEqual({ kind: 'ignored', reason: 'bot' });
    expect(replyFromComment({ ...comment, user: null }, where, context)).toEqual({ kind: 'ignored', reason: 'ghost' });
    expect(replyFromComment({ ...comment, body: '  ' }, where, context)).toEqual({ kind: 'ignored', reason: 'empty' });
    // A person answering through another App (user-to-server) still counts.
    expect(replyFromComment({ ...comment, viaAppId: 7 }, where, context).kind).toBe('reply');
  });

  it('gives an accepted edit its own identity', () => {
    const { comment } = example();
    const edited = { ...comment, updatedAt: '2026-05-01T10:00:00Z' };
    const verdict = replyFromComment(edited, where, { ...context, asEdit: true });
    expect(verdict.kind === 'reply' && verdict.reply.messageRef.id).toBe(`501@${Date.parse('2026-05-01T10:00:00Z')}`);
  });

  it('rejects what is not a comment', () => {
    expect(readComment(null)).toBeUndefined();
    expect(readComment({ id: 'x' })).toBeUndefined();
  });
});

describe('GitHub comment rendering', () => {
  const approval = {
    kind: 'approval_request' as const,
    handoffId: 'hf_1',
    handoffTag: '#h-0001',
    serviceName: 'Evil [link](https://x.example) @org/team',
    serviceUrl: 'https://svc.example',
    agentId: 'agent-`x`',
    scopes: ['a:read'],
    approvalUrl: 'https://svc.example/authorize/ar_1',
    answer: 'finish_code' as const,
    expiresAt: Date.parse('2026-05-01T10:00:00Z'),
    approvers: [],
  };

  it('marks its comments, shows both hosts, labels the name, and says who may answer in GitHub terms', () => {
    const body = renderGithubComment(approval, 'write');
    expect(body.startsWith('<!-- handoff-bridge -->\n')).toBe(true);
    expect(body).toContain(
      '**[Open the approval page](<https://svc.example/authorize/ar_1>)** The link opens `svc.example`.',
    );
    expect(body).toContain(
      'asks you to log in to `svc.example` (calls itself `Evil [link](https://x.example) @org/team`)',
    );
    expect(body).toContain('Agent `agent-ˋxˋ`');
    expect(body).toContain('Only people with write access to this repository may answer.');
    expect(body).toContain('Expires at 2026-05-01 10:00 UTC.');
    expect(renderGithubComment({ ...approval, approvers: ['alice', '@bob'] }, 'write')).toContain(
      'Only @alice, @bob may answer.',
    );
    // A team or anything else that is not a login is shown, never mentioned.
    expect(renderGithubComment({ ...approval, approvers: ['org/team', 'a b'] }, 'write')).toContain(
      'Only `org/team`, `a b` may answer.',
    );
    expect(renderGithubComment({ ...approval, notes: [['⚠️ This thread is public.']] }, 'write')).toContain(
      '\n\n⚠️ This thread is public.\n\n',
    );
  });

  it('shows the service logo beside the label that it is the service’s claim, encoded so it cannot break out of the tag', () => {
    const logoLine = (serviceLogoUrl?: string) =>
      renderGithubComment({ ...approval, serviceName: 'Notes', ...(serviceLogoUrl ? { serviceLogoUrl } : {}) }, 'write')
        .split('\n\n')
        .find((line) => line.includes('<img'));
    expect(logoLine('https://notes.example/logo.svg')).toBe(
      '<img src="https://notes.example/logo.svg" alt="" width="20" height="20"> The logo, like the name, is the service’s own claim.',
    );
    expect(logoLine('https://notes.example/l.png?a="><script>x</script>')).toContain(
      '<img src="https://notes.example/l.png?a=%22%3E%3Cscript%3Ex%3C/script%3E" alt=""',
    );
    expect(logoLine('javascript:alert(1)')).toBeUndefined();
    expect(logoLine()).toBeUndefined();
  });

  it('renders notices from their parts: words escaped, values as code spans, people never mentioned', () => {
    expect(
      renderGithubComment(
        { kind: 'notice', handoffId: 'hf_1', event: 'info', text: ['That code did not work (attempt 1 of 5).'] },
        'write',
      ),
    ).toBe('<!-- handoff-bridge -->\nThat code did not work (attempt 1 of 5).');
    const refusal = renderGithubComment(
      {
        kind: 'notice',
        handoffId: 'hf_1',
        event: 'refused',
        text: say`${{ person: 'mallory' }}, no: ${'[x](http://e) @team #1'}`,
      },
      'write',
    );
    expect(refusal).toBe('<!-- handoff-bridge -->\n`mallory`, no: `[x](http://e) @team #1`');
  });

  it('escapes markdown in its own words and breaks mentions and references', () => {
    expect(escapeMarkdownText('a*b_[c](d) @e #1 <b> &amp;')).toBe(
      'a\\*b\\_\\[c\\](d) \\@\u200be \\#\u200b1 \\<b\\> \\&amp;',
    );
  });
});
