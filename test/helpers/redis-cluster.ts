import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedis, isCluster, type Redis as Connection } from '../../src/store/redis.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait.js';

/**
 * A real Redis Cluster of a test's (or the bench's) own: three masters on free loopback ports,
 * in memory only, under a temporary directory, created with `redis-cli --cluster create` and
 * ready (`cluster_state:ok` on every node) before this resolves. `stop()` ends the servers and
 * removes the directory.
 */
export interface RedisCluster {
  /** REDIS_URL for the bridge: `redis+cluster://127.0.0.1:<p1>,…`. */
  readonly url: string;
  readonly ports: readonly number[];
  /** A new cluster client (BullMQ-ready), closed by `stop()`. */
  connect(): Connection;
  stop(): Promise<void>;
}

const howToInstall =
  'Redis Cluster tests need redis-server and redis-cli (Redis ≥ 7) on PATH: ' +
  '`sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).';

/** Servers still running, so a failed test cannot leave one behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function requireTools(): void {
  for (const tool of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(`${tool} was not found. ${howToInstall}`);
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const node = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return /cluster_state:(\w+)/.exec(String(await node.cluster('INFO')))?.[1];
  } catch {
    return undefined;
  } finally {
    node.disconnect();
  }
}

function startNode(dir: string, port: number, busPort: number): { child: ChildProcess; output: () => string } {
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', String(busPort)],
      ...['--cluster-node-timeout', '5000'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { child, output: () => stderr.trim() };
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  requireTools();
  const dir = await mkdtemp(join(tmpdir(), 'handoff-cluster-'));
  const ports: number[] = [];
  const nodes: { child: ChildProcess; output: () => string }[] = [];
  const connections: Connection[] = [];
  const stop = async () => {
    for (const c of connections) c.disconnect();
    await Promise.all(
      nodes.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      nodes.push(startNode(dir, port, await freePort()));
    }
    await waitFor(
      `${masters} redis-server cluster nodes`,
      async () => (await Promise.all(ports.map(clusterState))).every((s) => s !== undefined),
      10_000,
    );
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await waitFor(
      'cluster_state:ok on every node',
      async () => (await Promise.all(ports.map(clusterState))).every((s) => s === 'ok'),
      20_000,
    );
  } catch (err) {
    const said = nodes.map((n) => n.output()).filter(Boolean);
    await stop();
    throw new Error(`${(err as Error).message}${said.length ? `; redis-server said: ${said.join(' | ')}` : ''}`, {
      cause: err,
    });
  }
  const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  return {
    url,
    ports,
    connect() {
      const redis = createRedis(url);
      redis.on('error', () => undefined);
      connections.push(redis);
      return redis;
    },
    stop,
  };
}

/** Deletes `keys`: one command per key on a cluster (they may lie in different slots). */
export async function deleteKeys(redis: Connection, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(redis)) return redis.unlink(...keys);
  const counts = await Promise.all(keys.map((key) => redis.unlink(key)));
  return counts.reduce((a, b) => a + b, 0);
}
