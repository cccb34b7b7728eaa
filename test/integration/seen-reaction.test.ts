import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seenAfterMs } from '../../src/engine/seen-reaction.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * 👀 on a pasted code only when the answer is slow (src/engine/seen-reaction.ts): a quick claim
 * shows its outcome alone, a slow service or a retried reply shows 👀 first. Real bridge,
 * Redis, queues and sandbox; the sandbox is slowed or broken on its exchange route.
 */
describe('the seen reaction on a reply', () => {
  let bridge: TestBridge;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    bridge = await startTestBridge('seen-reaction');
  });
  afterAll(async () => {
    await bridge.close();
    process.off('unhandledRejection', onRejection);
  });

  const exchange = '/agent-sessions/exchange';
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A login waiting in a fresh thread, approved at the sandbox; its finish code pasted back. */
  async function pasteCode(label: string) {
    const thread = freshThread(label);
    const created = await bridge.api.createHandoff({ service: `${bridge.url}/sandbox`, thread, agent: { id: label } });
    const view = await waitFor('awaiting_human', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    const code = await bridge.approve(view.approvalUrl!);
    const sent = await bridge.reply(thread, 'alice', code);
    expect(sent.status).toBe(201);
    const replyId = (sent.body as { message: { id: string } }).message.id;
    const sentAt = Date.now();
    const reactions = async () => (await bridge.messages(thread)).find((m) => m.id === replyId)!.reactions;
    const completed = () =>
      waitFor('completed', async () => (await bridge.api.getHandoff(created.id)).status === 'completed', 20_000);
    const done = async () => {
      await completed();
      await waitFor('✅ on the reply', async () => (await reactions()).includes('✅'), 10_000);
    };
    return { reactions, completed, done, sentAt };
  }

  it('a quick claim gets ✅ and never 👀, even well past the threshold', async () => {
    const { reactions, done, sentAt } = await pasteCode('seen-fast');
    await done();
    // A 👀 queued by a timer left running would land by now.
    await sleep(Math.max(0, sentAt + seenAfterMs + 1_000 - Date.now()));
    expect(await reactions()).toEqual(['✅']);
  });

  it('a slow service: 👀 while the exchange waits, then ✅', async () => {
    bridge.sandbox!.faults.slow(exchange, seenAfterMs + 2_000);
    const { reactions, done } = await pasteCode('seen-slow');
    await waitFor('👀 before the answer', async () => (await reactions()).includes('👀'), seenAfterMs + 1_800);
    expect(await reactions()).toEqual(['👀']);
    await done();
    expect(await reactions()).toEqual(['👀', '✅']);
  });

  it('a claim that throws (a malformed answer, the reply job retried) shows 👀 once, with no stray rejection', async () => {
    bridge.sandbox!.faults.inject(exchange, 'malformed_json', 2);
    const { reactions, completed } = await pasteCode('seen-throws');
    // 👀 as soon as the first attempt throws, long before the retry answers.
    await waitFor('👀 after the throw', async () => (await reactions()).includes('👀'), seenAfterMs);
    // The retried reply or the background poll finishes it (the poll's ending has no reaction).
    await completed();
    await sleep(seenAfterMs + 500);
    expect((await reactions()).filter((r) => r === '👀')).toEqual(['👀']);
    expect(rejections).toEqual([]);
  });
});
