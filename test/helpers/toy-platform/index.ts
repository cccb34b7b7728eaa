import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { optionalText } from '../../../src/core/config-fields.js';
import { ConfigError, UnauthorizedError } from '../../../src/core/errors.js';
import { bodyJson, json, requireJsonObject, type Route } from '../../../src/core/http-route.js';
import type { KeyValueStore } from '../../../src/core/key-value.js';
import { renderPlainText } from '../../../src/core/messages.js';
import type { PlatformDescriptor, PlatformModule } from '../../../src/core/platform.js';
import { say, value } from '../../../src/core/sentence.js';
import type { InboundSink, ThreadAdapter } from '../../../src/core/thread-adapter.js';
import { invalidThreadRef, type ThreadAddress } from '../../../src/core/thread-ref.js';

/**
 * A throwaway platform that lives under test/ only: the proof that a platform is one folder.
 * Threads are `toy:<room>`, kept in the platform's own store (the KeyValueStore port); people
 * reply through a webhook signed like most platforms sign theirs (HMAC-SHA256 of the raw body
 * in `x-toy-signature`, a delivery id in `x-toy-delivery`). Its bot's own messages come back
 * as deliveries too (echoes), and edits arrive as their own events. Only a room's members may
 * answer. Nothing outside test/ knows it exists.
 */

export interface ToyThread extends ThreadAddress {
  readonly room: string;
}

export interface ToyMessage {
  readonly id: string;
  readonly author: string;
  readonly text: string;
}

export const toyBotId = 'toy-bot';
export const toyWebhookPath = '/toy/webhooks';
const roomPattern = /^[a-z0-9-]{1,40}$/;

export function parseToyThread(ref: string): ToyThread {
  const match = /^toy:([a-z0-9-]{1,40})$/i.exec(ref.trim());
  if (!match || !roomPattern.test(match[1]!.toLowerCase())) throw invalidThreadRef(ref, 'toy:lobby');
  const room = match[1]!.toLowerCase();
  return { platform: 'toy', ref: `toy:${room}`, room };
}

export interface ToyConfig {
  readonly token: string;
  readonly webhookSecret: string;
  /** People who may answer in any room. */
  readonly members: readonly string[];
}

const toyEnv = {
  TOY_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^toy_[A-Za-z0-9]{20,}$/, 'must be a toy token (toy_…)')
      .optional(),
  ),
  TOY_WEBHOOK_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  TOY_MEMBERS: optionalText,
};

export const toySignature = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function createToyAdapter(store: KeyValueStore, members: readonly string[]): ThreadAdapter<ToyThread> {
  const key = (room: string) => `room:${room}`;
  return {
    platform: 'toy',
    parseThread: parseToyThread,
    // Only a room's members may answer when nobody is named.
    unnamedApprovers: 'platform_rule',
    async post(thread, msg) {
      const message: ToyMessage = {
        id: `m_${randomBytes(6).toString('hex')}`,
        author: toyBotId,
        text: renderPlainText(msg),
      };
      await store.append(key(thread.room), JSON.stringify(message), 500);
      return { platform: 'toy', thread: thread.ref, id: message.id };
    },
    async checkApprover(_thread, author, named) {
      if (!members.includes(author.id))
        return { allowed: false, reason: say`${value(author.id)} is not a member of this toy room` };
      if (named.length > 0 && !named.includes(author.id))
        return { allowed: false, reason: say`${value(author.id)} was not named` };
      return { allowed: true };
    },
  };
}

/** Reads a room's messages back (for tests). */
export async function toyMessages(store: KeyValueStore, room: string): Promise<ToyMessage[]> {
  return (await store.list(`room:${room}`)).map((raw) => JSON.parse(raw) as ToyMessage);
}

function toyWebhook(config: ToyConfig, sink: InboundSink, now: () => number): Route {
  return {
    method: 'POST',
    path: toyWebhookPath,
    maxBodyBytes: 64 * 1024,
    handler: async (req) => {
      const given = Buffer.from(req.headers['x-toy-signature'] ?? '');
      const wanted = Buffer.from(toySignature(config.webhookSecret, req.rawBody.toString('utf8')));
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw new UnauthorizedError();
      const event = requireJsonObject(bodyJson(req));
      const deliveryId = req.headers['x-toy-delivery'] ?? '';
      // Edits are not answers: the first text a person sent is what they meant.
      if (event.type !== 'message') return json(200, { ok: true, ignored: event.type });
      const { room, author, text, id } = event as Record<string, unknown>;
      if (typeof room !== 'string' || typeof author !== 'string' || typeof text !== 'string' || typeof id !== 'string')
        return json(400, { error: 'invalid_payload' });
      // Our own messages come back like anyone's: never an answer.
      if (author === toyBotId) return json(200, { ok: true, ignored: 'own_message' });
      const thread = parseToyThread(`toy:${room}`);
      const ack = await sink({
        platform: 'toy',
        thread: thread.ref,
        author: { id: author },
        text,
        messageRef: { platform: 'toy', thread: thread.ref, id },
        deliveryId: `toy:${deliveryId}`,
        receivedAt: now(),
      });
      return json(200, { ok: true, ack });
    },
  };
}

export const toyPlatform: PlatformDescriptor = {
  name: 'toy',
  threadExample: 'toy:lobby',
  parseThread: parseToyThread,
  env: toyEnv,
  secretVariables: ['TOY_TOKEN', 'TOY_WEBHOOK_SECRET'],
  secretShapes: [/(?:\b|(?<=\\[nrt]))toy_[A-Za-z0-9]{20,}/g],
  howToEnable: 'Set TOY_TOKEN and TOY_WEBHOOK_SECRET to enable toy threads.',
  configure(env) {
    const token = env.TOY_TOKEN as string | undefined;
    const webhookSecret = env.TOY_WEBHOOK_SECRET as string | undefined;
    if (token === undefined && webhookSecret === undefined) return undefined;
    if (!token || !webhookSecret)
      throw new ConfigError(
        token ? 'TOY_WEBHOOK_SECRET' : 'TOY_TOKEN',
        'Invalid configuration:\n  - TOY_TOKEN and TOY_WEBHOOK_SECRET go together',
      );
    const members = ((env.TOY_MEMBERS as string | undefined) ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const config: ToyConfig = { token, webhookSecret, members };
    return {
      name: 'toy',
      settings: config,
      bannerLine: (base) => `  Toy       ${base}${toyWebhookPath}`,
      async create(ctx): Promise<PlatformModule> {
        return {
          adapter: createToyAdapter(ctx.store, members),
          routes: [toyWebhook(config, ctx.sink, () => ctx.clock.now())],
        };
      },
    };
  },
};
