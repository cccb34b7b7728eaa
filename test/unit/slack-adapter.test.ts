import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../adapters/slack/slack-adapter.js';
import { createSlackClient } from '../../adapters/slack/slack-client.js';
import { createSlackPeople } from '../../adapters/slack/slack-people.js';
import { createSlackSharing } from '../../adapters/slack/slack-sharing.js';
import { parseSlackThread, slackMessageId } from '../../adapters/slack/slack-thread.js';
import { HandoffError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import type { ApprovalRequestMessage, NoticeMessage } from '../../src/core/messages.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/fake-slack-api.js';
import { captureLogs } from '../helpers/logs.js';
import { alice, bob, mallory } from '../helpers/slack-bridge.js';

/** The adapter and its people directory against the fake Web API, through the real WebClient. */
describe('Slack adapter against a fake Web API', () => {
  let slack: FakeSlack;
  let make: (over?: { privateLinks?: boolean }) => ReturnType<typeof createSlackAdapter>;
  let logLines: string[];
  const notice: NoticeMessage = { kind: 'notice', handoffId: 'hf_1', event: 'info', text: ['hello'] };

  beforeAll(async () => {
    slack = await startFakeSlack();
    for (const person of [alice, mallory, bob]) slack.addUser(person);
    // Two people share a display name: a handle naming it is ambiguous.
    slack.addUser({ id: 'U0ANA00001', name: 'ana.s', realName: 'Ana Silva', displayName: 'ana' });
    slack.addUser({ id: 'U0ANA00002', name: 'ana.p', realName: 'Ana Pereira', displayName: 'ana' });
    const captured = captureLogs('slack-adapter-unit');
    logLines = captured.lines;
    const client = createSlackClient({ token: slack.botToken, apiUrl: slack.url, logger: captured.logger });
    make = (over = {}) =>
      createSlackAdapter({
        client,
        people: createSlackPeople(client),
        sharing: createSlackSharing({ client, logger: captured.logger }),
        privateLinks: over.privateLinks ?? true,
        codeModal: true,
        outboundPerSecond: 3,
      });
  });
  afterAll(async () => slack?.close());

  const newThread = () => {
    const parent = slack.postAsUser('C0UNIT0001', alice.id, 'parent');
    return parseSlackThread(`slack:C0UNIT0001/${parent.ts}`);
  };

  async function thrown(promise: Promise<unknown>): Promise<HandoffError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(HandoffError);
      return err as HandoffError;
    }
    throw new Error('expected a rejection');
  }

  it('declares its outbound budget for the platform queue', () => {
    expect(make().outboundRateLimit).toEqual({ max: 3, durationMs: 1000 });
  });

  it('turns a 429 into RateLimitedError with Slack’s Retry-After in ms', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 7 });
    const err = await thrown(make().post(newThread(), notice));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retry).toBe('after_delay');
    expect(err.retryAfterMs).toBe(7_000);
  });

  it('fails for good on errors Slack will repeat, with a hint, and retries Slack’s own trouble', async () => {
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const refused = await thrown(make().post(newThread(), notice));
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({ code: 'slack_api_error', retry: 'never', upstreamCode: 'not_in_channel' });
    expect(refused.message).toContain('/invite');

    slack.failNext('chat.postMessage', { status: 503 });
    expect(await thrown(make().post(newThread(), notice))).toMatchObject({
      code: 'slack_http_error',
      retry: 'backoff',
    });
    slack.failNext('chat.postMessage', { error: 'service_unavailable' });
    expect(await thrown(make().post(newThread(), notice))).toMatchObject({ code: 'slack_api_error', retry: 'backoff' });
  });

  it('posts the request without the logo when Slack cannot fetch the image, rather than not at all', async () => {
    const adapter = make();
    const thread = newThread();
    const request: ApprovalRequestMessage = {
      kind: 'approval_request',
      handoffId: 'hf_logo',
      handoffTag: '#h-1090',
      serviceName: 'Notes',
      serviceUrl: 'https://notes.example',
      serviceLogoUrl: 'https://cdn.notes.invalid/logo.png',
      agentId: 'agent-1',
      scopes: [],
      approvalUrl: 'https://notes.example/authorize/ar_1',
      answer: 'finish_code',
      expiresAt: Date.now() + 60_000,
      approvers: [],
    };
    const before = slack.callsOf('chat.postMessage').length;
    await adapter.post(thread, request);
    const calls = slack.callsOf('chat.postMessage').slice(before);
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(calls[0]!.params.blocks)).toContain('https://cdn.notes.invalid/logo.png');
    expect(JSON.stringify(calls[1]!.params.blocks)).not.toContain('image_url');
    const posted = slack.state.thread(thread.channel, thread.threadTs).filter((m) => m.botId);
    expect(posted).toHaveLength(1);

    const fetchable = { ...request, handoffId: 'hf_logo2', serviceLogoUrl: 'https://cdn.notes.example/logo.png' };
    await adapter.post(thread, fetchable);
    expect(
      JSON.stringify(
        slack.state
          .thread(thread.channel, thread.threadTs)
          .filter((m) => m.botId)
          .at(-1)!.blocks,
      ),
    ).toContain('"image_url":"https://cdn.notes.example/logo.png"');
  });

  it('tells channels shared with another organization (Slack Connect) from internal ones', async () => {
    const adapter = make();
    expect(await adapter.isPublic!(parseSlackThread('slack:C0INTERNAL1/1700000000.000100'))).toBe(false);
    slack.state.externallyShared.set('C0CONNECT01', 'shared');
    slack.state.externallyShared.set('C0INVITED01', 'pending');
    expect(await adapter.isPublic!(parseSlackThread('slack:C0CONNECT01/1700000000.000100'))).toBe(true);
    expect(await adapter.isPublic!(parseSlackThread('slack:C0INVITED01/1700000000.000100'))).toBe(true);
    expect(slack.callsOf('conversations.info').map((c) => c.params.channel)).toEqual([
      'C0INTERNAL1',
      'C0CONNECT01',
      'C0INVITED01',
    ]);
  });

  it('without the scope to read channels, fails closed naming the scope Slack says is needed', async () => {
    const adapter = make();
    slack.state.withoutScopes.add('channels:read').add('groups:read');
    try {
      for (const [ref, scope] of [
        ['slack:C0NOSCOPE01/1700000000.000100', 'channels:read'],
        ['slack:G0NOSCOPE01/1700000000.000100', 'groups:read'],
      ] as const) {
        const err = await adapter.isPublic!(parseSlackThread(ref)).then(
          () => undefined,
          (e: unknown) => e as HandoffError,
        );
        expect(err?.code).toBe('slack_missing_scope');
        expect(err?.retry).toBe('never');
        expect(err?.message).toContain(`lacks the ${scope} scope`);
      }
    } finally {
      slack.state.withoutScopes.clear();
    }
    expect(logLines.filter((line) => line.includes('the app lacks a scope'))).toHaveLength(2);
  });

  it('says nothing about the token when the token is wrong', async () => {
    const { logger } = captureLogs('slack-adapter-unit');
    const wrong = createSlackClient({ token: 'xoxb-0000000000-0000000000-wrongwrongwrong', apiUrl: slack.url, logger });
    const adapter = createSlackAdapter({
      client: wrong,
      people: createSlackPeople(wrong),
      sharing: createSlackSharing({ client: wrong, logger }),
      privateLinks: true,
      codeModal: true,
      outboundPerSecond: 1,
    });
    const err = await thrown(adapter.post(newThread(), notice));
    expect(err.message).toContain('invalid_auth');
    expect(err.message).toContain('SLACK_BOT_TOKEN');
    expect(err.message).not.toContain('xoxb-');
  });

  it('reacts idempotently and leaves modal submissions alone', async () => {
    const adapter = make();
    const thread = newThread();
    const human = slack.postAsUser(thread.channel, alice.id, 'code', thread.threadTs);
    const ref = { platform: 'slack' as const, thread: thread.ref, id: slackMessageId(thread.channel, human.ts) };
    await adapter.react!(ref, 'seen');
    await adapter.react!(ref, 'seen'); // a retried job: already_reacted is fine
    await adapter.react!(ref, 'ok');
    expect(slack.state.message(thread.channel, human.ts)?.reactions).toEqual(['eyes', 'white_check_mark']);
    const before = slack.callsOf('reactions.add').length;
    await adapter.react!({ platform: 'slack', thread: thread.ref, id: 'view:V0FAKE00001' }, 'ok');
    expect(slack.callsOf('reactions.add').length).toBe(before);
  });

  it('has no redact (a bot cannot delete a person’s message) and postPrivately only when private links are on', () => {
    expect(make().redact).toBeUndefined();
    expect(make().postPrivately).toBeTypeOf('function');
    expect(make({ privateLinks: false }).postPrivately).toBeUndefined();
  });

  it('lets only the named Slack user ids answer, or anyone when none are named', async () => {
    const adapter = make();
    const thread = newThread();
    expect(await adapter.checkApprover!(thread, { id: alice.id }, [alice.id])).toEqual({ allowed: true });
    // A username that spells someone's id in lower case does not pass for them.
    expect(await adapter.checkApprover!(thread, { id: mallory.id, name: alice.id.toLowerCase() }, [alice.id])).toEqual({
      allowed: false,
    });
    expect(await adapter.checkApprover!(thread, { id: mallory.id }, [])).toEqual({ allowed: true });
  });

  it('resolves approvers named by id, mention, email, username, display name and real name', async () => {
    const adapter = make();
    const thread = newThread();
    const expected = { id: alice.id, name: 'alice', email: alice.email };
    expect(await adapter.resolvePerson!(thread, alice.id)).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, `<@${alice.id}|alice>`)).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, 'ALICE@example.com')).toEqual(expected);
    expect(await adapter.resolvePerson!(thread, '@alice')).toEqual(expected);
    expect((await adapter.resolvePerson!(thread, '@bobby')).id).toBe(bob.id);
    expect((await adapter.resolvePerson!(thread, 'Mallory Example')).id).toBe(mallory.id);
  });

  it('refuses approvers it cannot pin down to one person', async () => {
    const adapter = make();
    const thread = newThread();
    expect(await thrown(adapter.resolvePerson!(thread, '@ana'))).toMatchObject({
      code: 'approver_ambiguous',
      status: 400,
    });
    expect(await thrown(adapter.resolvePerson!(thread, 'U0NOBODY01'))).toMatchObject({ code: 'approver_not_found' });
    expect(await thrown(adapter.resolvePerson!(thread, 'nobody@example.com'))).toMatchObject({
      code: 'approver_not_found',
    });
    expect(await thrown(adapter.resolvePerson!(thread, '@nobody'))).toMatchObject({ code: 'approver_not_found' });
  });

  it('pages through users.list and remembers whom it found', async () => {
    const many = await startFakeSlack();
    try {
      for (let i = 0; i < 450; i++)
        many.addUser({ id: `U0MANY${String(i).padStart(4, '0')}`, name: `person${i}`, realName: `Person ${i}` });
      const { logger } = captureLogs('slack-adapter-unit');
      const client = createSlackClient({ token: many.botToken, apiUrl: many.url, logger });
      const people = createSlackPeople(client);
      expect((await people.resolve('@person440')).id).toBe('U0MANY0440');
      expect(many.callsOf('users.list')).toHaveLength(3);
      await people.resolve('@person440');
      expect(many.callsOf('users.list')).toHaveLength(3);
    } finally {
      await many.close();
    }
  });
});
