import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { createKeys } from '../../src/store/keys.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { toyMessages, toyPlatform, toySignature, toyWebhookPath } from '../helpers/toy-platform/index.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A whole bridge serving a platform defined under test/ only (test/helpers/toy-platform): its
 * variables are read by the one config schema, its thread prefix is known, its token shape
 * masked, its approval message posted through its own outbound queue, its signed webhook
 * mounted, and a member's reply finishes the login. No file outside test/ knows it.
 */
describe('a platform defined under test/, registered with a whole bridge', () => {
  let bridge: TestBridge;
  const secret = `toy-secret-${randomBytes(8).toString('hex')}`;
  const token = `toy_${'Q9w8E7r6'.repeat(3)}`;

  beforeAll(async () => {
    bridge = await startTestBridge('toy-platform', {
      platforms: [toyPlatform],
      env: { TOY_TOKEN: token, TOY_WEBHOOK_SECRET: secret, TOY_MEMBERS: 'alice', HANDOFF_POLL_INTERVAL_MS: '600000' },
    });
  });
  afterAll(async () => bridge?.close());

  const room = () => toyMessages(redisKeyValue(bridge.bridge.redis, createKeys(bridge.prefix).adapter('toy')), 'lobby');
  const say = async (author: string, text: string, signWith = secret) => {
    const raw = JSON.stringify({
      type: 'message',
      room: 'lobby',
      author,
      text,
      id: `m_${randomBytes(4).toString('hex')}`,
    });
    return fetch(`${bridge.url}${toyWebhookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-toy-signature': toySignature(signWith, raw),
        'x-toy-delivery': randomBytes(6).toString('hex'),
      },
      body: raw,
    });
  };

  it('posts the approval in a toy thread and a member’s signed reply finishes the login', async () => {
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: 'TOY:lobby',
      agent: { id: 'toy-agent' },
    });
    const approval = await waitFor('the approval message in the toy room', async () =>
      (await room()).find((m) => m.text.includes('/sandbox/authorize/')),
    );
    const url = /https?:\/\/\S+\/sandbox\/authorize\/\S+/.exec(approval.text)![0].replace(/[).,]+$/, '');
    const code = await bridge.approve(url);

    // A stranger's answer, then a forged one, change nothing; the member's finishes it.
    expect((await say('mallory', code)).status).toBe(200);
    expect((await say('alice', code, 'forged-secret-forged')).status).toBe(401);
    await waitFor('the refusal of the stranger in the room', async () =>
      (await room()).find((m) => m.author === 'toy-bot' && m.text.includes('mallory')),
    );
    expect((await bridge.api.getHandoff(created.id)).status).toBe('awaiting_human');
    expect((await say('alice', `here: ${code}`)).status).toBe(200);
    const done = await waitFor('completed', async () => {
      const view = await bridge.api.getHandoff(created.id);
      return view.status === 'completed' ? view : undefined;
    });
    expect(done.thread).toBe('toy:lobby');
  });

  it('refuses an unknown prefix naming the toy among the platforms, and masks the toy token', async () => {
    const err = await bridge.api
      .createHandoff({ service: `${bridge.url}/sandbox`, thread: 'nope:x', agent: { id: 'toy-agent' } })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('unknown_thread_platform');
    expect((err as Error).message).toContain('toy:');
    bridge.bridge.engine.logger.info(`a stray ${token} in a log line`);
    expect(bridge.logs.join('\n')).not.toContain(token);
  });
});
