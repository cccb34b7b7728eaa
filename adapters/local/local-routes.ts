import { BadInputError } from '../../src/core/errors.js';
import { handoffTagPattern } from '../../src/core/handoff-tag.js';
import { maskSecrets } from '../../src/core/secret-patterns.js';
import { bodyJson, html, json, type Route } from '../../src/core/http-route.js';
import type { InboundSink, LinkOpenedSink } from '../../src/core/thread-adapter.js';
import type { LocalThreadStore } from './local-thread-store.js';
import { localThreadNamePattern } from './local-thread.js';
import { threadPage } from './thread-page.js';

function threadName(raw: string | undefined): string {
  const name = raw ?? '';
  if (!localThreadNamePattern.test(name)) {
    throw new BadInputError(`"${name.slice(0, 80)}" is not a local thread name (letters, digits, . _ -; up to 64).`, {
      code: 'invalid_thread_ref',
      details: { field: 'name' },
    });
  }
  return name;
}

/**
 * Local thread routes. The reply form's author is not authenticated, so they answer loopback
 * clients only, at the bridge's own names, and take JSON replies from no other site (`browser`).
 */
export function localRoutes(deps: {
  store: LocalThreadStore;
  sink: InboundSink;
  linkOpened: LinkOpenedSink;
  now: () => number;
}): Route[] {
  const { store, sink, linkOpened, now } = deps;
  return [
    {
      method: 'GET',
      path: '/threads/:name',
      loopbackOnly: true,
      browser: true,
      handler: async (req) => html(200, threadPage(threadName(req.params.name))),
    },
    {
      method: 'GET',
      path: '/v1/threads/local/:name/messages',
      loopbackOnly: true,
      browser: true,
      handler: async (req) => {
        const name = threadName(req.params.name);
        const after = req.query.get('after') ?? undefined;
        return json(200, { thread: `local:${name}`, messages: await store.list(name, after) });
      },
    },
    {
      method: 'POST',
      path: '/v1/threads/local/:name/messages',
      loopbackOnly: true,
      browser: true,
      maxBodyBytes: 64 * 1024,
      handler: async (req) => {
        const name = threadName(req.params.name);
        const body = bodyJson(req) as { author?: unknown; text?: unknown } | undefined;
        const author = typeof body?.author === 'string' ? body.author.trim() : '';
        const text = typeof body?.text === 'string' ? body.text : '';
        if (!author || author.length > 64) {
          throw new BadInputError('Field "author" must be a name of 1 to 64 characters.', {
            code: 'invalid_request',
            details: { field: 'author' },
          });
        }
        if (!text.trim() || text.length > 16_000) {
          throw new BadInputError('Field "text" must be 1 to 16000 characters.', {
            code: 'invalid_request',
            details: { field: 'text' },
          });
        }
        // The thread keeps a masked copy: a pasted code reaches only the (sealed) inbound queue.
        const message = await store.append(name, { author, text: maskSecrets(text), kind: 'human', at: now() });
        const ack = await sink({
          platform: 'local',
          thread: `local:${name}`,
          author: { id: author, name: author },
          text,
          messageRef: { platform: 'local', thread: `local:${name}`, id: message.id },
          deliveryId: message.id,
          receivedAt: now(),
        });
        return json(201, { message: { id: message.id, author, at: message.at }, ack });
      },
    },
    {
      // The page saying a login link was opened: the bridge polls that service sooner. The
      // answer is the same whatever the tag names, so it tells nothing about handoffs.
      method: 'POST',
      path: '/v1/threads/local/:name/opened',
      loopbackOnly: true,
      browser: true,
      maxBodyBytes: 1024,
      handler: async (req) => {
        const name = threadName(req.params.name);
        const tag = (bodyJson(req) as { tag?: unknown } | undefined)?.tag;
        if (typeof tag !== 'string' || !handoffTagPattern.test(tag)) {
          throw new BadInputError('Field "tag" must be a handoff tag such as "#h-4f2a".', {
            code: 'invalid_request',
            details: { field: 'tag' },
          });
        }
        await linkOpened({ platform: 'local', thread: `local:${name}`, handoff: { tag } });
        return json(202, { ok: true });
      },
    },
  ];
}
