import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  FakeSlackState,
  channelObject,
  fakeBot,
  fakeTeam,
  messageObject,
  userObject,
  type FakeMessage,
  type FakeSlackUser,
} from './fake-slack-state.js';
import { createFakeSocketHub, type FakeSocketHub } from './fake-socket-hub.js';
import { acceptWebSocket } from './websocket-server.js';

/**
 * An in-process fake of Slack's Web API (and its Socket Mode endpoint) that the real
 * WebClient and SocketModeClient talk to through `slackApiUrl`. It checks tokens, parses the
 * form-encoded bodies the WebClient sends, keeps a small workspace (fake-slack-state.ts) and
 * answers with Slack's response shapes. Tests can make the next calls of a method fail (a 429
 * with Retry-After, an `ok:false` error, an HTTP 500).
 */
export interface FakeSlackFailure {
  /** HTTP status to answer with (429 sends Retry-After). Default 200 with `ok:false`. */
  readonly status?: number;
  /** Retry-After in seconds, for 429. Default 1. */
  readonly retryAfterSec?: number;
  /** The `error` of an `ok:false` answer. */
  readonly error?: string;
  /** Only a call for this channel fails (others pass by, and the failure waits for its call). */
  readonly channel?: string;
}

export interface FakeSlackCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** What the fake answered (HTTP status). */
  readonly status: number;
  readonly at: number;
}

export interface FakeSlack {
  /** Web API base, e.g. http://127.0.0.1:41234/api/ (SLACK_API_URL). */
  readonly url: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly state: FakeSlackState;
  readonly socket: FakeSocketHub;
  readonly calls: FakeSlackCall[];
  addUser(user: FakeSlackUser): FakeSlackUser;
  /** A person's message; a reply when `threadTs` is given. */
  postAsUser(channel: string, user: string, text: string, threadTs?: string): FakeMessage;
  /** Makes the next `times` calls of `method` fail. */
  failNext(method: string, failure: FakeSlackFailure, times?: number): void;
  callsOf(method: string): FakeSlackCall[];
  close(): Promise<void>;
}

type Handler = (params: Record<string, unknown>) => Record<string, unknown>;

/** Form fields the WebClient JSON-encodes. */
const jsonFields = new Set(['blocks', 'attachments', 'view', 'metadata']);

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    params[key] = jsonFields.has(key) ? JSON.parse(value) : value === 'true' ? true : value === 'false' ? false : value;
  }
  return params;
}

const fail = (error: string, extra: Record<string, unknown> = {}) => ({ ok: false, error, ...extra });

export async function startFakeSlack(options: { botToken?: string; appToken?: string } = {}): Promise<FakeSlack> {
  const botToken = options.botToken ?? `xoxb-1111111111-2222222222-${randomBytes(12).toString('hex')}`;
  const appToken = options.appToken ?? `xapp-1-A0FAKE0001-3333333333-${randomBytes(16).toString('hex')}`;
  const state = new FakeSlackState();
  const calls: FakeSlackCall[] = [];
  const failures = new Map<string, FakeSlackFailure[]>();
  const sockets = new Set<Duplex>();
  let baseUrl = '';
  const hub = createFakeSocketHub();

  const channelOf = (id: string) => (/^[UW]/.test(id) ? `D${id.slice(1)}` : id);

  /**
   * Slack downloads every image in a message's blocks before it accepts the message; one it
   * cannot fetch fails the whole call with invalid_blocks. Here: hosts under `.invalid`.
   */
  const unfetchableImage = (blocks: unknown): Record<string, unknown> | undefined => {
    if (!Array.isArray(blocks)) return undefined;
    type Image = { type?: string; image_url?: string };
    for (const [i, block] of (blocks as Array<{ accessory?: Image; elements?: Image[] }>).entries()) {
      const images: Array<[string, Image | undefined]> = [
        ['accessory', block.accessory],
        ...(block.elements ?? []).map((e, j): [string, Image] => [`elements/${j}`, e]),
      ];
      for (const [where, image] of images) {
        const url = image?.type === 'image' ? image.image_url : undefined;
        if (url && new URL(url).hostname.endsWith('.invalid')) {
          const problem = `downloading image failed [json-pointer:/blocks/${i}/${where}/image_url]`;
          return fail('invalid_blocks', { errors: [problem], response_metadata: { messages: [`[ERROR] ${problem}`] } });
        }
      }
    }
    return undefined;
  };

  const handlers: Record<string, Handler> = {
    'auth.test': () => ({
      ok: true,
      url: `https://${fakeTeam.domain}.slack.com/`,
      team: 'Fake Workspace',
      user: fakeBot.name,
      team_id: fakeTeam.id,
      user_id: fakeBot.userId,
      bot_id: fakeBot.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (p) => {
      const channel = channelOf(String(p.channel ?? ''));
      if (!channel) return fail('channel_not_found');
      if (typeof p.text !== 'string' && !p.blocks) return fail('no_text');
      const badImage = unfetchableImage(p.blocks);
      if (badImage) return badImage;
      const threadTs = typeof p.thread_ts === 'string' ? p.thread_ts : undefined;
      if (threadTs && !state.message(channel, threadTs)) return fail('thread_not_found');
      const message: FakeMessage = {
        channel,
        ts: state.nextTs(),
        ...(threadTs ? { threadTs } : {}),
        user: fakeBot.userId,
        botId: fakeBot.botId,
        text: String(p.text ?? ''),
        ...(Array.isArray(p.blocks) ? { blocks: p.blocks } : {}),
        ...(p.unfurl_links !== undefined ? { unfurlLinks: p.unfurl_links === true } : {}),
        ...(p.unfurl_media !== undefined ? { unfurlMedia: p.unfurl_media === true } : {}),
        reactions: [],
      };
      state.messages.push(message);
      return { ok: true, channel, ts: message.ts, message: messageObject(message) };
    },
    'chat.postEphemeral': (p) => {
      const channel = String(p.channel ?? '');
      const user = String(p.user ?? '');
      if (!state.user(user)) return fail('user_not_found');
      if (!state.isMember(channel, user)) return fail('user_not_in_channel');
      const badImage = unfetchableImage(p.blocks);
      if (badImage) return badImage;
      const messageTs = state.nextTs();
      state.ephemeral.push({
        channel,
        user,
        messageTs,
        text: String(p.text ?? ''),
        ...(typeof p.thread_ts === 'string' ? { threadTs: p.thread_ts } : {}),
        ...(Array.isArray(p.blocks) ? { blocks: p.blocks } : {}),
      });
      return { ok: true, message_ts: messageTs };
    },
    'chat.update': (p) => {
      const channel = String(p.channel ?? '');
      const index = state.messages.findIndex((m) => m.channel === channel && m.ts === String(p.ts ?? ''));
      if (index < 0) return fail('message_not_found');
      const old = state.messages[index]!;
      // A bot may edit only its own messages.
      if (old.user !== fakeBot.userId) return fail('cant_update_message');
      if (typeof p.text !== 'string' && !p.blocks) return fail('no_text');
      const badImage = unfetchableImage(p.blocks);
      if (badImage) return badImage;
      const { blocks: _blocks, ...rest } = old;
      const edited: FakeMessage = {
        ...rest,
        text: String(p.text ?? ''),
        ...(Array.isArray(p.blocks) && p.blocks.length > 0 ? { blocks: p.blocks } : {}),
        edited: true,
      };
      state.messages[index] = edited;
      return { ok: true, channel, ts: old.ts, text: edited.text, message: messageObject(edited) };
    },
    // As Slack answers: the message's web link, `p` + its ts without the dot.
    'chat.getPermalink': (p) => {
      const channel = String(p.channel ?? '');
      const message = state.message(channel, String(p.message_ts ?? ''));
      if (!message) return fail('message_not_found');
      const path = `archives/${channel}/p${message.ts.replace('.', '')}`;
      return { ok: true, channel, permalink: `https://${fakeTeam.domain}.slack.com/${path}` };
    },
    'reactions.add': (p) => {
      const message = state.message(String(p.channel ?? ''), String(p.timestamp ?? ''));
      if (!message) return fail('message_not_found');
      const name = String(p.name ?? '');
      if (message.reactions.includes(name)) return fail('already_reacted');
      message.reactions.push(name);
      return { ok: true };
    },
    'users.info': (p) => {
      const user = state.user(String(p.user ?? ''));
      return user ? { ok: true, user: userObject(user) } : fail('user_not_found');
    },
    'users.lookupByEmail': (p) => {
      const email = String(p.email ?? '').toLowerCase();
      const user = state.users.find((u) => u.email?.toLowerCase() === email && !u.deleted);
      return user ? { ok: true, user: userObject(user) } : fail('users_not_found');
    },
    'users.list': (p) => {
      const limit = Math.max(1, Math.min(Number(p.limit ?? 100), 1000));
      const start = p.cursor
        ? Number(Buffer.from(String(p.cursor), 'base64').toString('utf8').replace('user:', ''))
        : 0;
      const page = state.users.slice(start, start + limit);
      const next = start + limit < state.users.length ? Buffer.from(`user:${start + limit}`).toString('base64') : '';
      return {
        ok: true,
        members: page.map(userObject),
        cache_ts: Math.floor(Date.now() / 1000),
        response_metadata: { next_cursor: next },
      };
    },
    'views.open': (p) => {
      const triggerId = String(p.trigger_id ?? '');
      if (!/^\d+\.\d+\.[0-9a-f]+$/.test(triggerId)) return fail('invalid_trigger_id');
      const view = (p.view ?? {}) as Record<string, unknown>;
      const id = `V0${randomBytes(5).toString('hex').toUpperCase()}`;
      state.views.push({ id, triggerId, view });
      return {
        ok: true,
        view: {
          id,
          team_id: fakeTeam.id,
          app_id: fakeBot.appId,
          bot_id: fakeBot.botId,
          hash: `${Math.floor(Date.now() / 1000)}.AbCdEf12`,
          state: { values: {} },
          ...view,
        },
      };
    },
    'conversations.info': (p) => {
      const channel = String(p.channel ?? '');
      if (!/^[CGD][A-Z0-9]+$/.test(channel)) return fail('channel_not_found');
      const needed = channel.startsWith('G') ? 'groups:read' : channel.startsWith('D') ? 'im:read' : 'channels:read';
      if (state.withoutScopes.has(needed))
        return { ...fail('missing_scope'), needed, provided: 'chat:write,reactions:write,users:read' };
      return { ok: true, channel: channelObject(channel, state.externallyShared.get(channel)) };
    },
    'apps.connections.open': () => ({
      ok: true,
      url: `${baseUrl.replace(/^http/, 'ws').replace(/\/api\/$/, '')}/link/?ticket=${randomBytes(8).toString('hex')}&app_id=${fakeBot.appId}`,
    }),
  };

  function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = new URL(req.url ?? '/', 'http://fake').pathname.replace(/^\/api\//, '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
    const record = (status: number) => calls.push({ method, params, status, at: Date.now() });
    const handler = handlers[method];
    if (!handler) {
      record(404);
      return answer(res, 404, fail('unknown_method'));
    }
    const expected = method === 'apps.connections.open' ? appToken : botToken;
    if (req.headers.authorization !== `Bearer ${expected}`) {
      record(200);
      return answer(res, 200, fail(req.headers.authorization ? 'invalid_auth' : 'not_authed'));
    }
    const pending = failures.get(method) ?? [];
    const at = pending.findIndex((f) => f.channel === undefined || f.channel === params.channel);
    const failure = at >= 0 ? pending.splice(at, 1)[0] : undefined;
    if (failure) {
      const status = failure.status ?? 200;
      record(status);
      if (status === 429)
        return answer(res, 429, fail('ratelimited'), { 'retry-after': String(failure.retryAfterSec ?? 1) });
      return answer(res, status, fail(failure.error ?? 'internal_error'));
    }
    record(200);
    answer(res, 200, handler(params));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => answer(res, 500, fail('fake_crashed', { detail: String(err) })));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (!req.url?.startsWith('/link/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    hub.connected(acceptWebSocket(req, socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;

  return {
    url: baseUrl,
    botToken,
    appToken,
    state,
    socket: hub,
    calls,
    addUser(user) {
      state.users.push(user);
      return user;
    },
    postAsUser(channel, user, text, threadTs) {
      const message: FakeMessage = {
        channel,
        ts: state.nextTs(),
        ...(threadTs ? { threadTs } : {}),
        user,
        text,
        reactions: [],
      };
      state.messages.push(message);
      return message;
    },
    failNext(method, failure, times = 1) {
      const list = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(failure);
      failures.set(method, list);
    },
    callsOf: (method) => calls.filter((c) => c.method === method),
    async close() {
      hub.closeAll();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
