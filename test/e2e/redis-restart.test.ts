import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Redis restarts under a running bridge (a deploy, a failover, an OOM kill): a redis-server of
 * this test's own, append-only, stopped and started again on the same port and directory while
 * a handoff waits and a human's reply is in flight. Nothing may be lost or done twice.
 */
describe('Redis restarting under a running bridge', () => {
  let dir: string;
  let port: number;
  let server: PrivateRedis | undefined;
  let bridge: TestBridge;

  const startRedis = async () => {
    server = await startPrivateRedis({ port, dir });
  };
  const stopRedis = async () => {
    const stopping = server!;
    server = undefined;
    await stopping.stop();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-redis-restart-'));
    port = await freePort();
    await startRedis();
    bridge = await startTestBridge('redis-restart', { redisUrl: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    // The bridge first (it closes at once when its Redis is down), then the server, whatever happened.
    try {
      await bridge?.close();
    } finally {
      if (server) await stopRedis();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the waiting handoff and the reply sent while Redis was down; the code is exchanged once', async () => {
    const thread = freshThread('restart');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
      agent: { id: 'restart-test' },
    });
    const view = await waitFor('waiting for a human', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' && v;
    });
    const code = await bridge.approve(view.approvalUrl!);

    await stopRedis();
    // The human answers during the outage; the bridge holds the request until Redis is back.
    const reply = bridge.reply(thread, 'alice', code);
    // Readiness says so at once instead of hanging on a PING that waits for the reconnection.
    const readiness = () => fetch(`${bridge.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status);
    await waitFor('/readyz answering 503', async () => (await readiness()) === 503, 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await startRedis();

    expect((await reply).status).toBe(201);
    await waitFor('ready again', async () => (await readiness()) === 200);
    const done = await waitFor(
      'completed after the restart',
      async () => {
        const v = await bridge.api.getHandoff(created.id);
        return v.status === 'completed' && v;
      },
      20_000,
    );
    expect(done.credential).not.toBeNull();
    expect(bridge.sandbox!.state.successfulExchanges.get(view.approvalUrl!.split('/').pop()!)).toBe(1);
    const credential = await bridge.api.retrieveCredential(created.id);
    const me = await fetch(`${bridge.url}/sandbox/api/me`, {
      headers: { authorization: `Bearer ${credential.accessToken}` },
    });
    expect(me.status).toBe(200);

    // The outage is reported once when it starts and once when it ends, not at every retry.
    const about = (text: string) =>
      bridge.logs.filter((line) => line.includes(text) && line.includes('"connection":"main"'));
    expect(about('Redis connection lost')).toHaveLength(1);
    expect(about('Redis connection restored')).toHaveLength(1);
    expect(bridge.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});

describe('stopping a bridge while its Redis is down', () => {
  it('closes at once instead of waiting for a reconnection (a shutdown during an outage ends)', async () => {
    const redis = await startPrivateRedis();
    try {
      const bridge = await startTestBridge('redis-down-close', { redisUrl: redis.url });
      await redis.stop();
      const ready = () => fetch(`${bridge.url}/readyz`).then((r) => r.status);
      await waitFor('the bridge seeing its Redis gone', async () => (await ready()) === 503);
      // Before: the workers' graceful close waited for Redis to come back, so this never returned.
      await bridge.close();
    } finally {
      await redis.stop();
    }
  });
});
