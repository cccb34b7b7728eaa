import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github/fake-github-server.js';
import { startFakeLinear, type FakeLinear } from '../fakes/linear/fake-linear-server.js';
import { threadReplyEvent } from '../fixtures/slack/slack-fixtures.js';
import { alice, mallory, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { freshThread } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, "poison input": input that could not be stored, parsed or answered. A lone UTF-16
 * surrogate in any field made a record undecodable by the Lua scripts (stuck `pending` past
 * expiry, DELETE → 500); a signed webhook whose body is `null` answered 500; a 2 MB body got
 * a reset instead of a 413; the same Slack message under a new event id was acted on twice.
 * One bridge with Slack, GitHub and Linear configured against their fakes.
 */
const lone = '\ud800';
const loneLow = '\udc00';

describe('poison input is refused or repaired at the door', () => {
  let h: SlackTestBridge;
  let github: FakeGithub;
  let linear: FakeLinear;
  const githubSecret = `whsec-${randomBytes(16).toString('hex')}`;
  const linearSecret = `lin_wh_${randomBytes(20).toString('hex')}`;

  beforeAll(async () => {
    github = await startFakeGithub();
    const linearKey = `lin_api_${randomBytes(20).toString('hex')}`;
    linear = await startFakeLinear({ auth: linearKey });
    h = await startSlackTestBridge('poison', {
      env: {
        GITHUB_TOKEN: github.auth.addToken('handoff-bot'),
        GITHUB_API_URL: github.url,
        GITHUB_WEBHOOK_SECRET: githubSecret,
        GITHUB_POLLING: 'false',
        LINEAR_API_KEY: linearKey,
        LINEAR_API_URL: linear.url,
        LINEAR_WEBHOOK_SECRET: linearSecret,
        LINEAR_POLL: 'off',
        // Only an answer in the thread may change a handoff here.
        HANDOFF_POLL_INTERVAL_MS: '600000',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await github?.close();
    await linear?.close();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${h.bridge.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${h.bridge.apiToken}`, 'content-type': 'application/json', ...init.headers },
    });
  const validRequest = () => ({
    service: `${h.bridge.url}/sandbox`,
    protocol: 'agent-sessions',
    thread: freshThread('poison'),
    approvers: ['alice'],
    approverEmail: 'alice@example.com',
    agent: { id: 'poison-agent', correlationId: 'corr-1' },
    scopes: ['account:read'],
    expiresInMs: 60_000,
    idempotencyKey: `idem-${randomBytes(4).toString('hex')}`,
    label: 'nightly report',
    parentJob: { id: 'job-1', queue: 'bull:agents' },
  });

  describe('agent requests', () => {
    const fields: Array<[field: string, poison: (body: Record<string, any>) => void]> = [
      ['service', (b) => (b.service += lone)],
      ['protocol', (b) => (b.protocol = `device${lone}`)],
      ['thread', (b) => (b.thread += loneLow)],
      ['approvers.0', (b) => (b.approvers = [`ali${lone}ce`])],
      ['approverEmail', (b) => (b.approverEmail = `alice${lone}@example.com`)],
      ['agent.id', (b) => (b.agent.id = `${loneLow}agent`)],
      ['agent.correlationId', (b) => (b.agent.correlationId = `c${lone}`)],
      ['scopes.1', (b) => (b.scopes = ['ok', `bad${lone}`])],
      ['idempotencyKey', (b) => (b.idempotencyKey = `k${lone}`)],
      ['label', (b) => (b.label = `${lone}`)],
      ['parentJob.id', (b) => (b.parentJob.id = `j${loneLow}`)],
      ['parentJob.queue', (b) => (b.parentJob.queue = `q${lone}`)],
    ];

    it.each(fields)(
      'a lone surrogate in %s is refused with 400 invalid_unicode naming the field, and nothing is stored',
      async (field, poison) => {
        const body = validRequest();
        poison(body);
        // JSON.stringify writes a lone surrogate as the escape \ud800, exactly what a hostile agent sends.
        const raw = JSON.stringify(body);
        expect(raw).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
        const res = await api('/v1/handoffs', { method: 'POST', body: raw });
        expect(res.status).toBe(400);
        const answer = (await res.json()) as { error: { code: string; field: string; message: string } };
        expect(answer.error).toMatchObject({ code: 'invalid_unicode', field });
        expect(answer.error.message).toContain(`"${field}"`);
        const listed = (await (await api('/v1/handoffs?limit=200')).json()) as { handoffs: Array<{ thread: string }> };
        expect(listed.handoffs.map((v) => v.thread)).not.toContain(body.thread);
      },
    );

    it('refuses a lone surrogate in an unknown key too (before it is reported as unknown)', async () => {
      const res = await api('/v1/handoffs', {
        method: 'POST',
        body: JSON.stringify({ ...validRequest(), [`x${lone}`]: 1 }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_unicode');
    });
  });

  describe('a record that holds one anyway is never stuck', () => {
    // Requests are checked at the door; text services choose (names, notes) reaches the record
    // by other ways. The store writes every string well-formed, so the Lua scripts can always
    // decode it: expiry and DELETE behave.
    const poisonRecord = async (id: string) => {
      const result = await h.bridge.bridge.engine.store.transition(id, {
        from: ['pending', 'awaiting_human'],
        set: {
          serviceName: `Evil${lone} Service`,
          note: [{ value: `note ${loneLow}` }],
          userCode: `AB${lone}CD`,
          approvalUrl: `https://x.test/${lone}`,
        },
      });
      expect(result.ok).toBe(true);
    };

    it('a poisoned waiting handoff expires on time and says so', async () => {
      const thread = freshThread('poison-expiry');
      const created = await h.bridge.api.createHandoff({
        service: `${h.bridge.url}/sandbox`,
        thread,
        agent: { id: 'poison' },
        expiresInMs: 2_000,
      });
      await waitFor('waiting', async () => (await h.bridge.api.getHandoff(created.id)).status === 'awaiting_human');
      await poisonRecord(created.id);
      const view = await waitFor('expiry', async () => {
        const v = await h.bridge.api.getHandoff(created.id);
        return v.status === 'expired' ? v : undefined;
      });
      expect(view.serviceName).toBe('Evil\ufffd Service');
    });

    it('a poisoned waiting handoff can be cancelled with DELETE (200, not 500)', async () => {
      const created = await h.bridge.api.createHandoff({
        service: `${h.bridge.url}/sandbox`,
        thread: freshThread('poison-delete'),
        agent: { id: 'poison' },
      });
      await waitFor('waiting', async () => (await h.bridge.api.getHandoff(created.id)).status === 'awaiting_human');
      await poisonRecord(created.id);
      const res = await api(`/v1/handoffs/${created.id}`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('cancelled');
    });
  });

  describe('platform text', () => {
    it('a Slack reply with lone surrogates in its text and ids is repaired, queued and handled; the handoff still expires', async () => {
      const thread = h.newThread();
      const created = await h.bridge.api.createHandoff({
        service: `${h.bridge.url}/sandbox`,
        thread,
        agent: { id: 'poison' },
        approvers: [alice.id],
        expiresInMs: 4_000,
      });
      await h.privateApproval(thread, alice.id);
      const t = parseSlackThread(thread);
      // A wrong code wrapped in lone surrogates from the approver: it must reach the engine
      // (a wrong-code notice and a counted attempt), not sit undecodable in a queue.
      const wrong = h.slack.postAsUser(t.channel, alice.id, 'x', t.threadTs);
      const body = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user: alice.id,
        text: `${lone}aae_${'0'.repeat(48)}${loneLow}`,
        ts: wrong.ts,
      });
      expect((await h.postEvent(body)).status).toBe(200);
      await waitFor('wrong-code notice', () => h.botTexts(thread).find((m) => m.startsWith('That code did not work')));
      // And someone whose user id carries one: refused like anyone who is not the approver.
      const other = h.slack.postAsUser(t.channel, mallory.id, 'x', t.threadTs);
      const hostile = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user: `U0EVIL${lone}`,
        text: `aae_${'1'.repeat(48)}`,
        ts: other.ts,
      });
      expect((await h.postEvent(hostile)).status).toBe(200);
      await waitFor('refusal', () => h.botTexts(thread).find((m) => m.includes('you cannot answer')));

      const view = await waitFor('expiry', async () => {
        const v = await h.bridge.api.getHandoff(created.id);
        return v.status === 'expired' ? v : undefined;
      });
      expect(view.attempts).toBe(1);
      const failed = await h.bridge.bridge.queues.inbound.getJobCounts('failed');
      expect(failed.failed).toBe(0);
    });

    it('a local-thread reply with lone surrogates is accepted and handled', async () => {
      const thread = freshThread('poison-local');
      const created = await h.bridge.api.createHandoff({
        service: `${h.bridge.url}/sandbox`,
        thread,
        agent: { id: 'poison' },
      });
      await waitFor('waiting', async () => (await h.bridge.api.getHandoff(created.id)).status === 'awaiting_human');
      const reply = await h.bridge.reply(thread, `mal${lone}lory`, `aae_${'2'.repeat(48)} ${loneLow}`);
      expect(reply.status).toBe(201);
      await waitFor('wrong-code notice', async () =>
        (await h.bridge.messages(thread)).some((m) => m.kind === 'bot' && m.text.startsWith('That code did not work')),
      );
      expect((await api(`/v1/handoffs/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    });
  });

  describe('signed webhooks whose body is not an object', () => {
    const bodies = ['null', '[]', '[{"type":"event_callback"}]', '42', '"text"', 'true'];

    it.each(bodies)('Slack events: %s → 400', async (raw) => {
      const res = await h.postEvent(raw);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_payload');
    });

    it.each(bodies)('Slack interactivity: payload=%s → 400', async (raw) => {
      const res = await h.postInteraction(JSON.parse(raw));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_payload');
    });

    it.each(bodies)('GitHub issue_comment and ping: %s → 400', async (raw) => {
      for (const event of ['issue_comment', 'ping']) {
        const res = await fetch(`${h.bridge.url}/github/webhooks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': randomBytes(8).toString('hex'),
            'x-hub-signature-256': await sign(githubSecret, raw),
          },
          body: raw,
        });
        expect(res.status, event).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_payload');
      }
    });

    it.each(bodies)('Linear: %s → 400 when signed, 401 when not', async (raw) => {
      const post = (signature: string) =>
        fetch(`${h.bridge.url}/linear/webhooks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'linear-delivery': randomBytes(8).toString('hex'),
            'linear-signature': signature,
          },
          body: raw,
        });
      const signed = await post(createHmac('sha256', linearSecret).update(raw).digest('hex'));
      expect(signed.status).toBe(400);
      expect(((await signed.json()) as { error: { code: string } }).error.code).toBe('invalid_payload');
      expect((await post(createHmac('sha256', 'not-the-secret').update(raw).digest('hex'))).status).toBe(401);
    });

    it('an unsigned null body is still a 401 on Slack and GitHub (the signature comes first)', async () => {
      expect((await fetch(`${h.bridge.url}/slack/events`, { method: 'POST', body: 'null' })).status).toBe(401);
      const gh = await fetch(`${h.bridge.url}/github/webhooks`, {
        method: 'POST',
        headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd1' },
        body: 'null',
      });
      expect(gh.status).toBe(401);
    });
  });

  describe('an oversized body gets a 413 the client can read', () => {
    const twoMb = () => Buffer.alloc(2 * 1024 * 1024, 0x61);
    const expect413 = async (res: Response) => {
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    };

    it('fetch with a declared 2 MB body (agent API and Slack events)', async () => {
      await expect413(await api('/v1/handoffs', { method: 'POST', body: twoMb() }));
      await expect413(await h.postEvent(twoMb().toString()));
    });

    it('fetch streaming 2 MB slowly, with and without a declared length', async () => {
      // 32 pieces of 64 KiB, 10 ms apart: the upload is still going when the 413 is written.
      const slowBody = () =>
        Readable.toWeb(
          Readable.from(
            (async function* () {
              for (let i = 0; i < 32; i++) {
                yield Buffer.alloc(64 * 1024, 0x62);
                await new Promise((r) => setTimeout(r, 10));
              }
            })(),
          ),
        ) as ReadableStream;
      await expect413(await api('/v1/handoffs', { method: 'POST', body: slowBody(), duplex: 'half' } as RequestInit));
      await expect413(
        await api('/v1/handoffs', {
          method: 'POST',
          body: slowBody(),
          duplex: 'half',
          headers: { 'content-length': String(2 * 1024 * 1024) },
        } as RequestInit),
      );
    });

    it('a raw client that sends all 2 MB before it reads still gets the whole 413 (no reset)', async () => {
      const url = new URL(h.bridge.url);
      const body = twoMb();
      for (const framing of ['content-length', 'chunked'] as const) {
        const head =
          `POST /v1/handoffs HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${h.bridge.apiToken}\r\nContent-Type: application/json\r\n` +
          (framing === 'chunked' ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${body.length}\r\n\r\n`);
        const payload =
          framing === 'chunked'
            ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
            : body;
        const outcome = await new Promise<{ received: string; error?: string }>((resolve) => {
          const socket = connect(Number(url.port), url.hostname);
          const chunks: Buffer[] = [];
          let error: string | undefined;
          socket.pause(); // read nothing until the whole upload is written
          socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
          socket.on('close', () =>
            resolve({ received: Buffer.concat(chunks).toString('utf8'), ...(error ? { error } : {}) }),
          );
          socket.on('data', (c: Buffer) => chunks.push(c));
          // Like a client that sends its headers, then uploads, and reads only after: the
          // answer waits in its buffer, where a reset from the bridge would destroy it.
          socket.write(head, () =>
            setTimeout(() => socket.write(payload, () => setTimeout(() => socket.resume(), 100)), 20),
          );
        });
        expect(outcome.error, framing).toBeUndefined();
        expect(outcome.received, framing).toMatch(/^HTTP\/1\.1 413 /);
        expect(outcome.received, framing).toMatch(/\r\nconnection: close\r\n/i);
        expect(outcome.received, framing).toContain('"code":"payload_too_large"');
      }
    });

    it('a plain node:http client writing 2 MB in small pieces reads the whole answer, and the bridge keeps serving', async () => {
      const answer = await new Promise<{ status: number; connection: string | undefined; body: string }>(
        (resolve, reject) => {
          const url = new URL('/v1/handoffs', h.bridge.url);
          const req = request(
            url,
            {
              method: 'POST',
              headers: {
                authorization: `Bearer ${h.bridge.apiToken}`,
                'content-type': 'application/json',
                'content-length': String(2 * 1024 * 1024),
              },
            },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (body += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          const piece = Buffer.alloc(16 * 1024, 0x63);
          let sent = 0;
          const pump = () => {
            while (sent < 2 * 1024 * 1024) {
              sent += piece.length;
              if (!req.write(piece)) return void req.once('drain', pump);
            }
            req.end();
          };
          pump();
        },
      );
      expect(answer.status).toBe(413);
      expect(answer.connection).toBe('close');
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
      expect((await api('/v1/handoffs?limit=1')).status).toBe(200);
    });
  });

  describe('a request target that is not a URL', () => {
    it('`GET http://[` gets a 400 (it left the connection hanging), and the bridge keeps serving', async () => {
      const url = new URL(h.bridge.url);
      // Node's HTTP parser accepts this absolute-form target; WHATWG URL refuses it.
      const received = await new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), url.hostname);
        const chunks: Buffer[] = [];
        socket.setTimeout(5_000, () => socket.destroy());
        socket.on('error', () => undefined);
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.write(`GET http://[ HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
      });
      expect(received).toMatch(/^HTTP\/1\.1 400 /);
      expect(received).toContain('"code":"bad_request_target"');
      expect((await fetch(`${h.bridge.url}/healthz`)).status).toBe(200);
    });
  });

  describe('the same Slack message under a new event id', () => {
    it('is processed once while its handoff stays open (no second notice, reaction or attempt)', async () => {
      const thread = h.newThread();
      const created = await h.bridge.api.createHandoff({
        service: `${h.bridge.url}/sandbox`,
        thread,
        agent: { id: 'dedupe' },
        approvers: [alice.id],
      });
      const approval = await h.privateApproval(thread, alice.id);
      await h.bridge.approve(approval.url);
      const t = parseSlackThread(thread);
      const fromAlice = h.slack.postAsUser(t.channel, alice.id, 'x', t.threadTs);
      const fromMallory = h.slack.postAsUser(t.channel, mallory.id, 'x', t.threadTs);
      const wrong = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user: alice.id,
        text: `aae_${'3'.repeat(48)}`,
        ts: fromAlice.ts,
      });
      const refused = threadReplyEvent({
        channel: t.channel,
        threadTs: t.threadTs,
        user: mallory.id,
        text: `aae_${'4'.repeat(48)}`,
        ts: fromMallory.ts,
      });
      // Each message first, then concurrently again under two new event ids (a second
      // subscription, a Socket Mode and an HTTP delivery…).
      for (const body of [wrong, refused]) {
        expect((await h.postEvent(body)).status).toBe(200);
        const again = await Promise.all([
          h.postEvent({ ...body, event_id: `${body.event_id}A` }),
          h.postEvent({ ...body, event_id: `${body.event_id}B` }),
        ]);
        expect(again.map((r) => r.status)).toEqual([200, 200]);
      }
      await waitFor(
        'both answers handled',
        () =>
          h.botTexts(thread).some((m) => m.includes('you cannot answer')) &&
          h.botTexts(thread).some((m) => m.startsWith('That code did not work')),
      );
      await new Promise((r) => setTimeout(r, 800));
      expect(h.botTexts(thread).filter((m) => m.startsWith('That code did not work'))).toHaveLength(1);
      expect(h.botTexts(thread).filter((m) => m.includes('you cannot answer'))).toHaveLength(1);
      expect(h.slack.state.message(t.channel, fromAlice.ts)?.reactions.filter((r) => r === 'x')).toHaveLength(1);
      expect((await h.bridge.api.getHandoff(created.id)).attempts).toBe(1);
      expect(h.bridge.sandbox!.state.successfulExchanges.get(approval.url.split('/').pop()!) ?? 0).toBe(0);
    });
  });
});
