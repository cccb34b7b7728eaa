import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadHandoffConfig as loadConfig } from '../../src/main.js';
import { startHandoff } from '../../src/main.js';
import { queueNames, queueKeyPrefix } from '../../src/queue/queue-names.js';
import { redisUrl } from '../helpers/environment.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * A bridge that cannot finish starting (here: its port is taken) says which variable to change,
 * and stops what it had already started: no BullMQ worker is left taking jobs.
 */
describe('a bridge that cannot start', () => {
  const redis = connectTestRedis();
  let occupier: Server | undefined;
  afterAll(async () => {
    await new Promise<void>((resolve) => (occupier ? occupier.close(() => resolve()) : resolve()));
    redis.disconnect();
  });

  it('names PORT when the port is taken, and leaves no worker running', async () => {
    occupier = createServer();
    const port = await new Promise<number>((resolve) =>
      occupier!.listen(0, '127.0.0.1', () => resolve((occupier!.address() as { port: number }).port)),
    );
    const prefix = randomPrefix('start');
    const config = loadConfig({ NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', HANDOFF_PREFIX: prefix });
    const { logger } = captureLogs('bridge-start');

    const failure = await startHandoff(config, {
      redisUrl,
      vaultKey: randomBytes(32),
      apiToken: `test-${randomBytes(16).toString('hex')}`,
      logger,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure).toMatchObject({ variable: 'PORT', code: 'invalid_config' });
    expect((failure as Error).message).toBe(
      `Port ${port} on 127.0.0.1 is already in use by another program: set PORT to a free port (or stop the other program).`,
    );

    for (const name of [
      queueNames.handoffs,
      queueNames.inbound,
      queueNames.credentials,
      queueNames.outbound('local'),
    ]) {
      const queue = new Queue(name, { connection: redis, prefix: queueKeyPrefix(`${prefix}:q`, name) });
      expect(await queue.getWorkers(), `workers of ${name}`).toEqual([]);
      await queue.close();
    }
    await deletePrefix(redis, prefix);
  });
});
