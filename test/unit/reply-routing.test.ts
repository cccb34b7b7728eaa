import { describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { handoffTag, namedHandoffs, withoutHandoffNames } from '../../src/core/handoff-tag.js';
import { parseReply } from '../../src/core/parsed-reply.js';
import { routeReply } from '../../src/engine/reply-routing.js';

const code = (c: string) => `aae_${c.repeat(48).slice(0, 48)}`;
let n = 0;
function record(over: Partial<HandoffRecord> = {}): HandoffRecord {
  const id = `hf_${(++n).toString(16).padStart(4, '0')}${'0'.repeat(20)}`;
  return {
    id,
    kind: 'login',
    status: 'awaiting_human',
    version: 1,
    service: 'https://svc.example',
    protocol: 'agent-sessions',
    thread: 'local:t',
    approvers: [],
    agentId: 'a',
    correlationId: id,
    scopes: [],
    createdAt: n,
    updatedAt: n,
    expiresAt: Date.now() + 60_000,
    attempts: 0,
    approvalUrl: 'https://svc.example/authorize/x',
    answer: 'finish_code',
    ...over,
  };
}
const ids = (r: ReturnType<typeof routeReply>) => r.candidates.map((c) => c.record.id);

describe('handoff tags', () => {
  it('are short, derived from the id, and read back from a reply in any case, with or without #', () => {
    expect(handoffTag('hf_4f2a0000000000000000000b')).toBe('#h-4f2a');
    expect(handoffTag('not-an-id')).toMatch(/^#h-[0-9a-f]{4}$/);
    expect(namedHandoffs('#H-4F2A here it is').tags).toEqual(['#h-4f2a']);
    expect(namedHandoffs('for h-4f2a: 123456').tags).toEqual(['#h-4f2a']);
    expect(namedHandoffs('see hf_4f2a0000000000000000000b').ids).toEqual(['hf_4f2a0000000000000000000b']);
    // Not a tag: part of a word, a URL path, or another id.
    expect(namedHandoffs('https://x.example/h-4f2a/ sh-4f2a h-4f2ab').tags).toEqual([]);
  });

  it('prefer the person’s own lines to quoted ones, and fall back on the quote (GitHub "Quote reply")', () => {
    expect(namedHandoffs('> Several wait: #h-aaaa, #h-bbbb\n#h-bbbb 123456').tags).toEqual(['#h-bbbb']);
    expect(namedHandoffs('> Tag `#h-cccc`: if other requests wait…\n\naae_1').tags).toEqual(['#h-cccc']);
    expect(namedHandoffs('&gt; Tag #h-dddd\nok').tags).toEqual(['#h-dddd']); // Slack's escaped quote
  });

  it('are never read as codes (a full id looks like a prefixed finish code)', () => {
    expect(withoutHandoffNames('hf_4f2a0000000000000000000b #h-1234 done')).not.toMatch(/hf_|h-1234/);
  });
});

describe('routing a reply to one handoff', () => {
  it('sends a code to the only handoff whose answer has its shape', () => {
    const links = record();
    const email = record({ answer: 'email_code' });
    expect(ids(routeReply({ parsed: parseReply('123 456') }, [links, email], 'job'))).toEqual([email.id]);
    expect(ids(routeReply({ parsed: parseReply(`here: ${code('a')}`) }, [links, email], 'job'))).toEqual([links.id]);
  });

  it('finds every handoff a code could answer when shapes match, so the handler can ask which', () => {
    const a = record();
    const b = record();
    const r = routeReply({ parsed: parseReply(code('1')) }, [a, b], 'job');
    expect(ids(r)).toEqual([a.id, b.id]);
    expect(r.named).toBe(false);
  });

  it('honours a tag, a full id, or the platform’s own target, and considers nothing else', () => {
    const a = record();
    const b = record();
    expect(ids(routeReply({ parsed: parseReply(`${handoffTag(b.id)} ${code('1')}`) }, [a, b], 'job'))).toEqual([b.id]);
    expect(ids(routeReply({ parsed: parseReply(`${b.id}: ${code('1')}`) }, [a, b], 'job'))).toEqual([b.id]);
    expect(ids(routeReply({ parsed: parseReply(code('1')), handoffId: a.id }, [a, b], 'job'))).toEqual([a.id]);
    // A target that is not open here routes nowhere (never to a neighbour).
    const nowhere = routeReply(
      { parsed: parseReply(code('1')), handoffId: 'hf_ffff00000000000000000000' },
      [a, b],
      'job',
    );
    expect(nowhere).toMatchObject({ named: true, candidates: [], busy: [] });
  });

  it('turns "done" into a poll request on logins the bridge polls, a claim where "done" is the answer, a confirmation where a result is held', () => {
    const polled = record({ nextPollAt: Date.now() });
    const device = record({ answer: 'done' });
    const held = record({ serviceReadyAt: Date.now() });
    expect(routeReply({ parsed: parseReply('done') }, [polled], 'job').candidates[0]!.action).toEqual({ kind: 'poll' });
    expect(routeReply({ parsed: parseReply('done!') }, [device], 'job').candidates[0]!.action).toEqual({
      kind: 'claim',
      code: 'done',
    });
    expect(routeReply({ parsed: parseReply('all done') }, [held], 'job').candidates[0]!.action).toEqual({
      kind: 'confirm',
      saidDone: true,
    });
    expect(routeReply({ parsed: parseReply(code('2')) }, [held], 'job').candidates[0]!.action).toEqual({
      kind: 'confirm',
      saidDone: false,
    });
  });

  it('lists busy handoffs that might take the reply (starting, or checking another answer)', () => {
    const waiting = record();
    const starting = record({ status: 'pending', answer: undefined, approvalUrl: undefined });
    const checking = record({ status: 'claiming', claimedBy: 'other-job' });
    const mine = record({ status: 'claiming', claimedBy: 'job' });
    const r = routeReply({ parsed: parseReply(code('3')) }, [waiting, starting, checking, mine], 'job');
    expect(ids(r)).toEqual([waiting.id, mine.id]);
    expect(r.busy.map((b) => b.id)).toEqual([starting.id, checking.id]);
    // Conversation is nobody's business.
    expect(routeReply({ parsed: parseReply('see you after lunch') }, [waiting, starting], 'job')).toMatchObject({
      candidates: [],
      busy: [],
    });
  });
});
