import { describe, expect, it } from 'vitest';
import { parseVote } from '../../src/engine/approval-words.js';

describe('parseVote: the words that decide an approval', () => {
  it.each(['approve', 'Approved', 'LGTM', '/approve', '/APPROVE!', '#h-4f2a approve', 'approve #h-4f2a', '  lgtm.  '])(
    'reads %j as a yes',
    (text) => expect(parseVote(text)).toEqual({ vote: 'approve' }),
  );

  it.each([
    ['deny', undefined],
    ['deny too risky', 'too risky'],
    ['Reject: wrong window', 'wrong window'],
    ['/deny   not now  ', 'not now'],
    ['#h-4f2a deny no', 'no'],
    ['DENY - see thread', 'see thread'],
  ])('reads %j as a no with reason %j', (text, reason) =>
    expect(parseVote(text)).toEqual(reason ? { vote: 'deny', reason } : { vote: 'deny' }),
  );

  it.each([
    'I approve of this plan',
    'do not approve',
    'approve?maybe',
    'aae_123',
    'done',
    '',
    'denying is easy',
    'lgtm2',
  ])('leaves %j alone', (text) => expect(parseVote(text)).toBeUndefined());

  it('reads the first line that is not a quote, and only it', () => {
    expect(parseVote('> 🛂 Agent asks for approval\n/approve')).toEqual({ vote: 'approve' });
    expect(parseVote('looks fine\napprove')).toBeUndefined();
    expect(parseVote('/deny reason\nsecond line')).toEqual({ vote: 'deny', reason: 'reason' });
  });

  it('keeps a reason one clean line, at most 500 characters', () => {
    const vote = parseVote(`deny ${'x'.repeat(900)}\u202e`);
    expect(vote?.vote).toBe('deny');
    expect(Array.from((vote as { reason: string }).reason).length).toBe(500);
    expect(parseVote('deny a\u0000b\u202ec')).toEqual({ vote: 'deny', reason: 'abc' });
  });
});
