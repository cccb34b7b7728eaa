import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, handoffBin, spawnLogged, stopAllProcesses, waitForHealth } from '../helpers/processes.js';
import { randomBytes } from 'node:crypto';
import { redisUrl } from '../helpers/environment.js';
import { redisAnswers } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `npm start` on a fresh clone: no REDIS_URL, no token, no key. The bridge must bring up its
 * own Redis, generate its secrets with safe permissions, say where everything is, keep state
 * across a restart, and refuse to run in production on such defaults.
 */
describe('handoff serve with embedded defaults', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'handoff-serve-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await stopAllProcesses();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
  it('starts its own Redis, generates 0600 secrets, prints the way in, and keeps state across a restart', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HANDOFF_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      HANDOFF_PREFIX: 'serve-test',
    };
    const url = `http://127.0.0.1:${port}`;

    // What `npm start` runs.
    const first = spawnLogged('serve-embedded-1', [handoffBin, 'serve', '--dev'], env);
    await waitForHealth(url, first);
    await new Promise((r) => setTimeout(r, 200)); // the banner follows the listen
    expect(first.stdout()).toContain('handoff bridge is running (all, development)');
    expect(first.stdout()).toMatch(
      /Mode\s+development: sandbox on, secrets generated into .+, a private Redis unless REDIS_URL is set\./,
    );
    expect(first.stdout()).toContain('Not for production');
    expect(first.stdout()).toContain(`npx handoff login --service ${url}/sandbox --thread local:demo`);
    expect(first.stdout()).toContain(`${url}/threads/demo`);
    expect(first.stderr()).toMatch(/HANDOFF_VAULT_KEY is not set/);

    expect(await modeOf(join(dataDir, 'vault.key'))).toBe(0o600);
    expect(await modeOf(join(dataDir, 'api-token'))).toBe(0o600);
    expect(Buffer.from((await readFile(join(dataDir, 'vault.key'), 'utf8')).trim(), 'base64')).toHaveLength(32);
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
    const redisPort = Number((await readFile(join(dataDir, 'redis', 'port'), 'utf8')).trim());
    expect(await redisAnswers(redisPort)).toBe(true);

    const created = await fetch(`${url}/v1/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: `${url}/sandbox`, thread: 'local:serve-test', agent: { id: 'serve' } }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    first.child.kill('SIGTERM');
    expect((await first.waitForExit(15_000)).code).toBe(0);
    expect(await redisAnswers(redisPort)).toBe(false); // it stops the Redis it started

    // A second start reuses the key and token, and the append-only file kept the handoff.
    const second = spawnLogged('serve-embedded-2', [handoffBin, 'serve', '--dev'], env);
    await waitForHealth(url, second);
    expect((await readFile(join(dataDir, 'api-token'), 'utf8')).trim()).toBe(token);
    const again = await fetch(`${url}/v1/handoffs/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    second.child.kill('SIGTERM');
    expect((await second.waitForExit(15_000)).code).toBe(0);
  });

  it('runs with production semantics unless told otherwise: no NODE_ENV and no --dev refuses to start without its secrets (exit 2)', async () => {
    const proc = spawnLogged('serve-default', [handoffBin, 'serve'], {
      PATH: process.env.PATH,
      HANDOFF_DATA_DIR: await tempDir(),
      PORT: String(await freePort()),
    });
    expect((await proc.waitForExit(20_000)).code).toBe(2);
    for (const variable of ['HANDOFF_VAULT_KEY', 'HANDOFF_API_TOKEN', 'REDIS_URL'])
      expect(proc.stderr()).toContain(`${variable} is required in production`);
    expect(proc.stdout()).not.toContain('handoff bridge is running');
  });

  it('runs the role HANDOFF_ROLE names (a worker serves no HTTP)', async () => {
    const port = await freePort();
    const proc = spawnLogged('serve-role-worker', [handoffBin, 'serve'], {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      REDIS_URL: redisUrl,
      HANDOFF_PREFIX: `serve-role-${randomBytes(4).toString('hex')}`,
      HANDOFF_VAULT_KEY: randomBytes(32).toString('base64'),
      HANDOFF_API_TOKEN: `t-${randomBytes(16).toString('hex')}`,
      HANDOFF_ROLE: 'worker',
      PORT: String(port),
      LOG_FORMAT: 'json',
    });
    await waitFor('worker running', () => /"worker running"/.test(proc.stderr() + proc.stdout()), 30_000);
    expect(proc.stdout()).not.toContain('/v1/handoffs');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await proc.stop();
  });

  it('an explicit NODE_ENV wins over --dev, and serve refuses options it does not know (exit 2)', async () => {
    const production = spawnLogged('serve-dev-production', [handoffBin, 'serve', '--dev'], {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HANDOFF_DATA_DIR: await tempDir(),
    });
    expect((await production.waitForExit(20_000)).code).toBe(2);
    expect(production.stderr()).toContain('REDIS_URL is required in production');
    const unknown = spawnLogged('serve-unknown-option', [handoffBin, 'serve', '--devv'], {
      PATH: process.env.PATH,
      HANDOFF_DATA_DIR: await tempDir(),
    });
    expect((await unknown.waitForExit(20_000)).code).toBe(2);
    expect(unknown.stderr()).toContain('Unknown option --devv');
  });

  it('refuses production defaults, naming every variable to set (exit 2)', async () => {
    const proc = spawnLogged('serve-production', [handoffBin, 'serve'], {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HANDOFF_DATA_DIR: await tempDir(),
    });
    expect((await proc.waitForExit(20_000)).code).toBe(2);
    for (const variable of ['HANDOFF_VAULT_KEY', 'HANDOFF_API_TOKEN', 'REDIS_URL'])
      expect(proc.stderr()).toContain(variable);
  });

  it('says how to get Redis when there is neither REDIS_URL nor a redis-server (exit 2)', async () => {
    const emptyPath = await tempDir();
    const proc = spawnLogged('serve-no-redis', [handoffBin, 'serve', '--dev'], {
      PATH: emptyPath,
      HANDOFF_DATA_DIR: await tempDir(),
      PORT: String(await freePort()),
    });
    expect((await proc.waitForExit(20_000)).code).toBe(2);
    expect(proc.stderr()).toContain('no redis-server was found on PATH');
    expect(proc.stderr()).toContain('apt-get install redis-server');
    expect(proc.stderr()).toContain('docker compose up -d redis');
  });

  it('names PORT when another program holds the port, stops its private Redis, and exits 2', async () => {
    const dataDir = await tempDir();
    const holder = createServer();
    const taken = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)),
    );
    try {
      const proc = spawnLogged('serve-port-taken', [handoffBin, 'serve', '--dev'], {
        PATH: process.env.PATH,
        HANDOFF_DATA_DIR: dataDir,
        PORT: String(taken),
        LOG_FORMAT: 'json',
      });
      expect((await proc.waitForExit(20_000)).code).toBe(2);
      expect(proc.stderr()).toContain(
        `Port ${taken} on 127.0.0.1 is already in use by another program: set PORT to a free port`,
      );
      expect(proc.stderr()).not.toContain('EADDRINUSE');
      const redisPort = Number((await readFile(join(dataDir, 'redis', 'port'), 'utf8')).trim());
      expect(await redisAnswers(redisPort)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('rejects a bad setting with the variable’s name (exit 2)', async () => {
    const proc = spawnLogged('serve-bad-port', [handoffBin, 'serve'], {
      PATH: process.env.PATH,
      PORT: 'eighty',
      HANDOFF_DATA_DIR: await tempDir(),
    });
    expect((await proc.waitForExit(20_000)).code).toBe(2);
    expect(proc.stderr()).toContain('PORT must be a whole number from 0 to 65535');
  });
});
