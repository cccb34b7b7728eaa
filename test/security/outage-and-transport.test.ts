import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBridgeUrl, createBridgeClient } from '../../src/client/bridge-client.js';
import { runCli } from '../../src/client/cli.js';
import { type HandoffError } from '../../src/core/errors.js';
import { startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { approvalIn } from '../helpers/agent.js';
import { freePort } from '../helpers/processes.js';
import { redisAnswers } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, "secrets operations" (the outage and transport half; the vault and secret files
 * are in secrets-operations.test.ts): a stalled Redis hung the API; the client sent its token
 * over plain http to any host; and a slow exchange lost its claim after 60 s, so a second
 * reply claimed the same login again and exchanged the code twice.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('a stalled Redis', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let bridge: TestBridge;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-stall-'));
    port = await freePort();
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    await waitFor('private redis-server', () => redisAnswers(port));
    bridge = await startTestBridge('stall', { redisUrl: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await bridge?.close();
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the API answer 503 store_unavailable within 5 s instead of hanging, and it recovers', async () => {
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: freshThread('stall'),
      agent: { id: 'stall' },
    });
    const staller = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: null });
    const stalled = staller.call('DEBUG', 'SLEEP', '7');
    await sleep(100); // the server is asleep now
    const started = Date.now();
    const headers = { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json' };
    const [read, write] = await Promise.all([
      fetch(`${bridge.url}/v1/handoffs/${created.id}`, { headers, signal: AbortSignal.timeout(6_000) }),
      fetch(`${bridge.url}/v1/handoffs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          service: `${bridge.url}/sandbox`,
          thread: freshThread('stall'),
          agent: { id: 'stall' },
        }),
        signal: AbortSignal.timeout(6_000),
      }),
    ]);
    const elapsed = Date.now() - started;
    for (const res of [read, write]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    }
    expect(elapsed).toBeLessThan(5_000);
    await stalled;
    staller.disconnect();
    await waitFor(
      'the API answers again',
      async () => (await fetch(`${bridge.url}/v1/handoffs/${created.id}`, { headers })).status === 200,
      10_000,
    );
  });
});

describe('the client and plain http', () => {
  it.each([
    'http://bridge.example.com',
    'http://10.0.0.7:8080',
    'http://192.168.1.2',
    'http://[fd00::1]:8080',
    'http://127.0.0.1.nip.io:8080',
  ])('refuses %s unless told the network is trusted', (url) => {
    let err: HandoffError | undefined;
    try {
      createBridgeClient({ baseUrl: url, apiToken: 'token-0123456789abcdef' });
    } catch (e) {
      err = e as HandoffError;
    }
    expect(err?.code).toBe('insecure_bridge_url');
    expect(err?.message).toContain('HANDOFF_ALLOW_INSECURE_URL=true');
    expect(() => checkBridgeUrl(url, true)).not.toThrow();
  });

  it.each([
    'https://bridge.example.com',
    'http://127.0.0.1:8080',
    'http://127.9.9.9',
    'http://localhost:8080',
    'http://[::1]:8080',
  ])('accepts %s', (url) => {
    expect(() => checkBridgeUrl(url)).not.toThrow();
  });

  it('the CLI refuses before sending anything, exits 2 and names the variable; HANDOFF_ALLOW_INSECURE_URL=true lets it through', async () => {
    // A "remote" bridge: the IPv4-mapped IPv6 form of a loopback address is not one of the
    // host names the check calls loopback, yet the packets stay on this machine.
    const bridge = await startFakeServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"handoffs":[]}');
      },
      { host: '::' },
    );
    try {
      const port = bridge.origin.split(':').pop();
      const { io, err } = capture();
      const cliIo = { ...io, interactive: false };
      const env = { HANDOFF_URL: `http://[::ffff:127.0.0.1]:${port}`, HANDOFF_API_TOKEN: 'token-0123456789abcdef' };
      expect(await runCli(['status', '--json'], env, cliIo)).toBe(2);
      expect(err.join('\n')).toContain('HANDOFF_ALLOW_INSECURE_URL=true');
      expect(bridge.requests).toEqual([]);
      expect(await runCli(['status', '--json'], { ...env, HANDOFF_ALLOW_INSECURE_URL: 'true' }, cliIo)).toBe(0);
      expect(bridge.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/handoffs']);
      expect(bridge.requests[0]?.headers.authorization).toBe('Bearer token-0123456789abcdef');
    } finally {
      await bridge.close();
    }
  });
});

describe('the claim lease while a slow exchange runs', () => {
  let bridge: TestBridge;
  let service: FakeServer;
  let exchanges = 0;
  const exchangeMs = 3_000;

  const readAll = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  beforeAll(async () => {
    // A lease far shorter than the service's exchange (renewed every 300 ms while it runs).
    bridge = await startTestBridge('lease', {
      env: { HANDOFF_CLAIM_LEASE_MS: '900', HANDOFF_POLL_INTERVAL_MS: '600000' },
    });
    // The sandbox behind a service that takes 3 s to exchange a code.
    service = await startFakeServer(async (req, res, path) => {
      const body = await readAll(req);
      if (path.endsWith('/agent-sessions/exchange')) {
        exchanges += 1;
        await sleep(exchangeMs);
      }
      const forwarded: Record<string, string> = {};
      for (const name of ['content-type', 'x-agent-id', 'x-correlation-id', 'authorization']) {
        const value = req.headers[name];
        if (typeof value === 'string') forwarded[name] = value;
      }
      const upstream = await fetch(`${bridge.url}/sandbox${path}`, {
        method: req.method ?? 'GET',
        headers: forwarded,
        ...(body.length ? { body } : {}),
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  afterAll(async () => {
    await service?.close();
    await bridge?.close();
  });

  it('is renewed, so a second answer during the exchange is not claimed and the code is exchanged once', async () => {
    const thread = freshThread('lease');
    const created = await bridge.api.createHandoff({
      service: service.origin,
      protocol: 'agent-sessions',
      thread,
      agent: { id: 'lease' },
      approvers: ['alice'],
    });
    const { url } = await approvalIn(bridge, thread);
    const code = await bridge.approve(url);
    expect((await bridge.reply(thread, 'alice', code)).status).toBe(201);
    await waitFor('the exchange under way', () => exchanges === 1);
    await sleep(1_500); // longer than the lease
    // The driver looks at the claim now (a poll or a wake-up would make it look, too).
    await bridge.bridge.engine.jobs.wake(created.id);
    await sleep(300);
    expect((await bridge.bridge.engine.store.get(created.id))!.status).toBe('claiming');
    // The approver, seeing nothing happen yet, sends the code again.
    expect((await bridge.reply(thread, 'alice', `again: ${code}`)).status).toBe(201);
    await waitFor('completed', async () => (await bridge.api.getHandoff(created.id)).status === 'completed', 15_000);
    await sleep(1_500);
    expect(exchanges).toBe(1);
    expect((await bridge.api.getHandoff(created.id)).attempts).toBe(0);
  });
});
