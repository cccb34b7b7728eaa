import { describe, expect, it } from 'vitest';
import { replyFromEvent } from '../../adapters/slack/slack-events.js';
import { parseInteraction } from '../../adapters/slack/slack-interactions.js';
import { parseSlackMessageId, parseSlackThread, slackMessageId } from '../../adapters/slack/slack-thread.js';
import {
  codeSubmission,
  pasteCodeClick,
  slackFixture,
  threadReplyEvent,
  type SlackFixtureName,
} from '../fixtures/slack/slack-fixtures.js';

const at = 1_700_000_999_000;

describe('Slack thread refs', () => {
  it('keeps the canonical channel/ts form and upper-cases the channel', () => {
    expect(parseSlackThread('slack:c0123abc/1700000000.000100')).toEqual({
      platform: 'slack',
      ref: 'slack:C0123ABC/1700000000.000100',
      channel: 'C0123ABC',
      threadTs: '1700000000.000100',
    });
  });

  it('accepts the p-form of a ts and a message permalink', () => {
    expect(parseSlackThread('slack:C0123ABC/p1700000000000100').ref).toBe('slack:C0123ABC/1700000000.000100');
    expect(parseSlackThread('slack:https://acme.slack.com/archives/C0123ABC/p1700000000000100').ref).toBe(
      'slack:C0123ABC/1700000000.000100',
    );
    // A reply's permalink names the thread's parent in thread_ts.
    expect(
      parseSlackThread(
        'slack:https://acme.slack.com/archives/C0123ABC/p1700000999000200?thread_ts=1700000000.000100&cid=C0123ABC',
      ).ref,
    ).toBe('slack:C0123ABC/1700000000.000100');
  });

  it('round-trips message ids and tells view submissions apart', () => {
    expect(parseSlackMessageId(slackMessageId('C0123ABC', '1700000000.000100'))).toEqual({
      kind: 'message',
      channel: 'C0123ABC',
      ts: '1700000000.000100',
    });
    expect(parseSlackMessageId('view:V0FAKE00001')).toEqual({ kind: 'view', viewId: 'V0FAKE00001' });
    expect(parseSlackMessageId('nonsense')).toBeUndefined();
  });
});

describe('Events API payloads → replies', () => {
  it('turns a person’s thread reply into a reply with event_id and channel:ts as its identities', () => {
    const body = slackFixture('event-thread-reply');
    const outcome = replyFromEvent(body, at);
    expect(outcome).toEqual({
      kind: 'reply',
      reply: {
        platform: 'slack',
        thread: 'slack:C0FAKE0001/1700000000.000100',
        author: { id: 'U0ALICE001' },
        text: 'here you go: `CODE`',
        messageRef: {
          platform: 'slack',
          thread: 'slack:C0FAKE0001/1700000000.000100',
          id: 'C0FAKE0001:1700000123.000200',
        },
        deliveryId: 'Ev0FAKE00001',
        receivedAt: at,
      },
    });
  });

  it('takes "also send to channel" replies', () => {
    const outcome = replyFromEvent(slackFixture('event-thread-broadcast'), at);
    expect(outcome.kind).toBe('reply');
  });

  it.each<[SlackFixtureName, string]>([
    ['event-top-level-message', 'not a thread reply'],
    ['event-bot-reply', 'bot message'],
    ['event-message-changed', 'subtype message_changed'],
    ['event-message-deleted', 'subtype message_deleted'],
    ['url-verification', 'envelope type url_verification'],
  ])('ignores %s (%s)', (name, reason) => {
    expect(replyFromEvent(slackFixture(name), at)).toEqual({ kind: 'ignored', reason });
  });

  it('ignores the thread parent itself, other event types and replies without text', () => {
    const parent = threadReplyEvent({
      channel: 'C0FAKE0001',
      threadTs: '1700000000.000100',
      ts: '1700000000.000100',
      user: 'U0ALICE001',
      text: 'hi',
    });
    expect(replyFromEvent(parent, at)).toMatchObject({ kind: 'ignored', reason: 'not a thread reply' });
    const reaction = slackFixture('event-thread-reply');
    reaction.event.type = 'reaction_added';
    expect(replyFromEvent(reaction, at)).toMatchObject({ kind: 'ignored' });
    const empty = threadReplyEvent({
      channel: 'C0FAKE0001',
      threadTs: '1700000000.000100',
      user: 'U0ALICE001',
      text: '  ',
    });
    expect(replyFromEvent(empty, at)).toMatchObject({ kind: 'ignored', reason: 'no text' });
  });
});

describe('interaction payloads', () => {
  const value = JSON.stringify({
    thread: 'slack:C0FAKE0001/1700000000.000100',
    handoffId: 'hf_0123',
    answer: 'finish_code',
  });

  it('opens the code modal for a click on "Paste finish code", carrying the thread in private_metadata', () => {
    const click = pasteCodeClick({ value, user: 'U0ALICE001', channel: 'C0FAKE0001', threadTs: '1700000000.000100' });
    const outcome = parseInteraction(click, at);
    expect(outcome).toMatchObject({
      kind: 'open_modal',
      triggerId: click.trigger_id,
      view: { type: 'modal', callback_id: 'handoff_code' },
    });
    const metadata = JSON.parse(String((outcome as { view: { private_metadata: string } }).view.private_metadata));
    expect(metadata).toEqual({ thread: 'slack:C0FAKE0001/1700000000.000100', handoffId: 'hf_0123' });
  });

  it('turns the modal’s submission into a reply identified by the view and aimed at the modal’s handoff', () => {
    const metadata = JSON.stringify({ thread: 'slack:C0FAKE0001/1700000000.000100', handoffId: 'hf_0123' });
    const outcome = parseInteraction(
      codeSubmission({ viewId: 'V0FAKE00009', privateMetadata: metadata, code: 'the code', user: 'U0ALICE001' }),
      at,
    );
    expect(outcome).toEqual({
      kind: 'reply',
      reply: {
        platform: 'slack',
        thread: 'slack:C0FAKE0001/1700000000.000100',
        handoffId: 'hf_0123',
        author: { id: 'U0ALICE001', name: 'alice' },
        text: 'the code',
        messageRef: { platform: 'slack', thread: 'slack:C0FAKE0001/1700000000.000100', id: 'view:V0FAKE00009' },
        deliveryId: 'view:V0FAKE00009',
        receivedAt: at,
      },
      ack: { response_action: 'update', view: expect.objectContaining({ type: 'modal' }) },
    });
  });

  it('ignores other buttons, other views and tampered-looking values', () => {
    const other = pasteCodeClick({ value, user: 'U0ALICE001', channel: 'C0FAKE0001', threadTs: '1700000000.000100' });
    other.actions[0].action_id = 'handoff_open_link';
    expect(parseInteraction(other, at).kind).toBe('ignored');
    const badThread = pasteCodeClick({
      value: JSON.stringify({ thread: 'local:demo', handoffId: 'hf_1', answer: 'finish_code' }),
      user: 'U0ALICE001',
      channel: 'C0FAKE0001',
      threadTs: '1700000000.000100',
    });
    expect(parseInteraction(badThread, at).kind).toBe('ignored');
    const otherView = codeSubmission({ viewId: 'V0FAKE00009', privateMetadata: '{}', code: 'x', user: 'U0ALICE001' });
    otherView.view.callback_id = 'someone_elses_modal';
    expect(parseInteraction(otherView, at).kind).toBe('ignored');
    expect(parseInteraction({ type: 'shortcut' }, at).kind).toBe('ignored');
    expect(parseInteraction('payload', at).kind).toBe('ignored');
  });
});
