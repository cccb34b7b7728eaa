import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoalescingConnector, coalesceWrites } from '../../src/store/coalesced-writes.js';
import { createRedis, duplicateConnection, type Redis } from '../../src/store/redis.js';
import { redisUrl } from '../helpers/environment.js';
import { deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * Commands of one event-loop turn leave a Redis connection in one write
 * (src/store/coalesced-writes.ts): counted at the socket (one `_writev`, no `_write`), with
 * every byte delivered in order, on a bare loopback socket and on real ioredis connections,
 * duplicates (as BullMQ makes them) included.
 */

/** Counts how the socket hands its data to the kernel: `_write` per chunk, `_writev` per batch. */
function countWrites(socket: Socket) {
  const counts = { write: 0, writev: 0, chunks: 0 };
  const internals = socket as unknown as {
    _write: (...args: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const write = internals._write.bind(socket);
  const writev = internals._writev.bind(socket);
  internals._write = (...args) => {
    counts.write++;
    counts.chunks++;
    write(...args);
  };
  internals._writev = (chunks, cb) => {
    counts.writev++;
    counts.chunks += chunks.length;
    writev(chunks, cb);
  };
  return counts;
}

describe('coalesced writes on a socket', () => {
  let server: Server;
  let port: number;
  const received: string[] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.setEncoding('utf8');
      s.on('data', (d: string) => received.push(d));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  afterEach(() => {
    received.length = 0;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  const connect = async () => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    return socket;
  };
  const receivedText = async (length: number) => {
    for (let i = 0; i < 200 && received.join('').length < length; i++) await new Promise((r) => setTimeout(r, 5));
    return received.join('');
  };

  it('sends the writes of one turn as one writev, in order, and the next turn again', async () => {
    const socket = await connect();
    coalesceWrites(socket);
    const counts = countWrites(socket);
    socket.write('one ');
    socket.write(Buffer.from('two '));
    socket.write('three ');
    expect(counts).toEqual({ write: 0, writev: 0, chunks: 0 }); // nothing left yet
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts).toEqual({ write: 0, writev: 1, chunks: 3 });
    socket.write('four ');
    await Promise.resolve().then(() => socket.write('five')); // a promise continuation of the same turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts.writev).toBe(2);
    expect(counts.chunks).toBe(5);
    expect(await receivedText(23)).toBe('one two three four five');
    socket.destroy();
  });

  it('a plain socket writes each chunk on its own (what the coalescing saves)', async () => {
    const socket = await connect();
    const counts = countWrites(socket);
    socket.write('one ');
    socket.write('two ');
    socket.write('three');
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts.write + counts.writev).toBeGreaterThan(1);
    expect(await receivedText(13)).toBe('one two three');
    socket.destroy();
  });

  it('end() in the same turn still delivers what was written', async () => {
    const socket = await connect();
    coalesceWrites(socket);
    socket.write('last words');
    socket.end();
    await once(socket, 'finish');
    expect(await receivedText(10)).toBe('last words');
  });
});

describe('coalesced writes on Redis connections', () => {
  let redis: Redis;
  const prefix = randomPrefix('coalesce');

  beforeAll(async () => {
    redis = createRedis(redisUrl);
    await redis.ping();
  });
  afterAll(async () => {
    await deletePrefix(redis as never, prefix);
    redis.disconnect();
  });

  const streamOf = (r: Redis) => (r as unknown as { stream: Socket }).stream;

  it('200 commands of one turn leave in one writev and answer in order', async () => {
    const counts = countWrites(streamOf(redis));
    const key = `${prefix}:counter`;
    const answers = await Promise.all(Array.from({ length: 200 }, () => redis.incr(key)));
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(counts.write).toBe(0);
    expect(counts.writev).toBe(1);
    expect(counts.chunks).toBe(200);
  });

  it('pipelines, transactions and scripts keep working', async () => {
    const key = `${prefix}:list`;
    const [pushed, multi, script] = await Promise.all([
      redis.pipeline().rpush(key, 'a').rpush(key, 'b').exec(),
      redis.multi().rpush(key, 'c').lrange(key, 0, -1).exec(),
      redis.eval("return redis.call('LLEN', KEYS[1])", 1, key),
    ]);
    expect(pushed?.map(([err]) => err)).toEqual([null, null]);
    expect(multi?.[1]?.[1]).toEqual(['a', 'b', 'c']);
    expect(script).toBe(3);
  });

  it('connections duplicated from ours (as BullMQ makes its blocking one) coalesce too', async () => {
    const duplicate = duplicateConnection(redis);
    try {
      expect((duplicate.options as { Connector?: unknown }).Connector).toBe(CoalescingConnector);
      await duplicate.ping();
      const counts = countWrites(streamOf(duplicate));
      await Promise.all([duplicate.ping(), duplicate.ping(), duplicate.ping()]);
      expect(counts).toEqual({ write: 0, writev: 1, chunks: 3 });
    } finally {
      duplicate.disconnect();
    }
  });

  it('quit() after commands in the same turn: all answered, then the connection ends', async () => {
    const own = createRedis(redisUrl);
    const key = `${prefix}:quit`;
    const set = own.set(key, 'v');
    const quit = own.quit();
    expect(await set).toBe('OK');
    expect(await quit).toBe('OK');
    expect(await redis.get(key)).toBe('v');
  });
});
