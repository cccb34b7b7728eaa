import { describe, expect, it } from 'vitest';
import { finishOrCut } from '../../src/app/shutdown.js';
import { createRedis, endConnection } from '../../src/store/redis.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A stop must end even when Redis does not answer: ioredis keeps a command issued while the
 * connection is down in its offline queue until a reconnection, and a QUIT behind it waits too.
 */
describe('finishOrCut: a graceful stop that Redis cannot finish is cut', () => {
  it('cuts a QUIT stuck behind a command queued during an outage, after the grace time', async () => {
    const server = await startPrivateRedis();
    const connection = createRedis(server.url); // the bridge's own kind, not ended by server.stop()
    connection.on('error', () => undefined); // refused reconnections while the server is gone
    try {
      await connection.ping();
      await server.stop();
      await waitFor('the connection seeing Redis gone', () => connection.status !== 'ready');
      const queued = connection.get('anything').catch((err: Error) => err);
      const quit = connection.quit().then(() => undefined);
      let cuts = 0;
      const endedOnItsOwn = await finishOrCut(quit, {
        redis: connection,
        graceMs: 300,
        cut: () => {
          cuts += 1;
          endConnection(connection);
        },
      });
      expect(endedOnItsOwn).toBe(false);
      expect(cuts).toBe(1);
      // The cut fails what waited instead of leaving it pending forever.
      expect(await queued).toBeInstanceOf(Error);
      expect(connection.status).toBe('end');
    } finally {
      connection.disconnect();
      await server.stop();
    }
  });

  it('cuts at once when Redis is lost during the graceful stop, without waiting out the grace time', async () => {
    const server = await startPrivateRedis();
    const connection = createRedis(server.url); // the bridge's own kind, not ended by server.stop()
    connection.on('error', () => undefined); // refused reconnections while the server is gone
    try {
      await connection.ping();
      const never = new Promise<void>(() => undefined);
      let cutAt = 0;
      const started = Date.now();
      const stopping = finishOrCut(never, {
        redis: connection,
        graceMs: 600_000,
        cut: () => {
          cutAt = Date.now();
          endConnection(connection);
        },
      });
      await server.stop();
      expect(await stopping).toBe(false);
      expect(cutAt).toBeGreaterThan(0);
      // Far below the grace time: the lost connection, not the timer, started the cut.
      expect(cutAt - started).toBeLessThan(60_000);
    } finally {
      connection.disconnect();
      await server.stop();
    }
  });

  it('does not cut a stop that ends on its own', async () => {
    const server = await startPrivateRedis();
    const connection = createRedis(server.url); // the bridge's own kind, not ended by server.stop()
    connection.on('error', () => undefined); // refused reconnections while the server is gone
    try {
      await connection.ping();
      let cuts = 0;
      const endedOnItsOwn = await finishOrCut(
        connection.quit().then(() => undefined),
        { redis: connection, graceMs: 600_000, cut: () => (cuts += 1) },
      );
      expect(endedOnItsOwn).toBe(true);
      expect(cuts).toBe(0);
    } finally {
      connection.disconnect();
      await server.stop();
    }
  });
});
