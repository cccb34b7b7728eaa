import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { codeSubmission, pasteCodeClick, slackFixture, threadReplyEvent } from '../fixtures/slack/slack-fixtures.js';
import { startFakeSlack } from '../fakes/slack/fake-slack-api.js';
import { startTestAgent } from '../helpers/agent.js';
import { alice, pasteButtonValue, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { startTestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Socket Mode: the real SocketModeClient opens its WebSocket (apps.connections.open on the
 * fake Web API hands out a ws:// URL on the fake) and Slack's envelopes come down it.
 */
describe('Slack over Socket Mode (real SocketModeClient, fake socket server)', () => {
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    h = await startSlackTestBridge('slack-socket', { socketMode: true });
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  const exchanges = (approvalUrl: string) =>
    h.bridge.sandbox!.state.successfulExchanges.get(approvalUrl.split('/').pop()!) ?? 0;

  it('connects with the app-level token when the bridge starts, and serves no HTTP event routes', async () => {
    expect(h.slack.socket.openConnections()).toBe(1);
    expect(h.slack.callsOf('apps.connections.open')).toHaveLength(1);
    const res = await fetch(`${h.bridge.url}/slack/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('finishes a handoff from a reply pushed down the socket, acking it once queued', async () => {
    const thread = h.newThread();
    const t = parseSlackThread(thread);
    const job = await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);
    const human = h.slack.postAsUser(t.channel, alice.id, code, t.threadTs);

    const body = threadReplyEvent({
      channel: t.channel,
      threadTs: t.threadTs,
      user: alice.id,
      text: code,
      ts: human.ts,
    });
    const envelope = h.slack.socket.eventsApi(body);
    const ack = await h.slack.socket.send(envelope);
    expect(ack).toEqual({ envelope_id: envelope.envelope_id, payload: {} });
    // Slack redelivers an envelope it thinks was not acked in time: same event, new envelope.
    const retried = h.slack.socket.eventsApi(body, 1);
    expect(await h.slack.socket.send(retried)).toMatchObject({ envelope_id: retried.envelope_id });

    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(exchanges(approval.url)).toBe(1);
    expect(h.botTexts(thread).filter((text) => text.startsWith('✅'))).toHaveLength(1);
    await waitFor('reactions', () =>
      h.slack.state.message(t.channel, human.ts)?.reactions.includes('white_check_mark'),
    );
  });

  it('acks what it ignores (edits, bot messages) and enqueues nothing for it', async () => {
    const before = await h.bridge.bridge.queues.inbound.count();
    for (const name of ['event-message-changed', 'event-bot-reply', 'event-message-deleted'] as const) {
      const envelope = h.slack.socket.eventsApi(slackFixture(name));
      expect(await h.slack.socket.send(envelope)).toMatchObject({ envelope_id: envelope.envelope_id });
    }
    expect(await h.bridge.bridge.queues.inbound.count()).toBe(before);
  });

  it('runs the code modal over the socket: the click opens it, the submission is answered in the ack', async () => {
    const thread = h.newThread();
    const t = parseSlackThread(thread);
    const job = await agent.run(thread, [alice.id]);
    const approval = await h.privateApproval(thread, alice.id);
    const code = await h.bridge.approve(approval.url);
    const { message } = await h.threadApproval(thread);
    const click = pasteCodeClick({
      value: pasteButtonValue(message.blocks),
      user: alice.id,
      channel: t.channel,
      threadTs: t.threadTs,
    });
    const opened = h.slack.state.views.length;
    expect(await h.slack.socket.send(h.slack.socket.interactive(click))).toBeDefined();
    const view = await waitFor('views.open', () => h.slack.state.views[opened]);

    const submission = h.slack.socket.interactive(
      codeSubmission({ viewId: view.id, privateMetadata: String(view.view.private_metadata), code, user: alice.id }),
    );
    const ack = await h.slack.socket.send(submission);
    expect(ack?.payload).toMatchObject({ response_action: 'update' });
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
  });

  it('survives a dropped connection while Slack refuses to hand out a new one, and reconnects', async () => {
    const accepted = h.slack.socket.accepted;
    const opens = h.slack.callsOf('apps.connections.open').length;
    // The link drops, then Slack's Web API fails twice (a 503, then a rejected token) before it
    // hands out a new socket URL: each failure is logged and retried, never thrown at the process.
    h.slack.failNext('apps.connections.open', { status: 503 }, 1);
    h.slack.failNext('apps.connections.open', { error: 'invalid_auth' }, 1);
    h.slack.socket.closeAll();
    await waitFor(
      'a new connection',
      () => h.slack.socket.accepted > accepted && h.slack.socket.openConnections() === 1,
      20_000,
    );
    expect(
      h.slack
        .callsOf('apps.connections.open')
        .slice(opens)
        .map((c) => c.status),
    ).toEqual([503, 200, 200]);
    const envelope = h.slack.socket.eventsApi(slackFixture('event-bot-reply'));
    expect(await h.slack.socket.send(envelope)).toMatchObject({ envelope_id: envelope.envelope_id });
  });

  it('reconnects when Slack asks it to', async () => {
    const accepted = h.slack.socket.accepted;
    h.slack.socket.sendDisconnect();
    await waitFor(
      'a new connection',
      () => h.slack.socket.accepted > accepted && h.slack.socket.openConnections() === 1,
      20_000,
    );
  });
});

describe('Slack Socket Mode with an app token Slack refuses', () => {
  it('stops the start with slack_socket_failed naming SLACK_APP_TOKEN, and tries no more', async () => {
    const slack = await startFakeSlack();
    try {
      const wrongToken = `xapp-1-A0FAKE0001-3333333333-${'0'.repeat(32)}`;
      const failure = await startTestBridge('slack-socket-refused', {
        env: { SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url, SLACK_APP_TOKEN: wrongToken },
      }).then(
        (bridge) => bridge.close().then(() => undefined),
        (err: unknown) => err,
      );
      expect(failure).toMatchObject({ code: 'slack_socket_failed' });
      expect((failure as Error).message).toContain('(invalid_auth)');
      expect((failure as Error).message).toContain('Check SLACK_APP_TOKEN');
      expect((failure as Error).message).not.toContain(wrongToken);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(slack.callsOf('apps.connections.open')).toHaveLength(1);
    } finally {
      await slack.close();
    }
  });
});
