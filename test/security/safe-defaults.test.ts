import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridgeClient } from '../../src/client/bridge-client.js';
import { alice, startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { redisUrl } from '../helpers/environment.js';
import { repoRoot } from '../helpers/processes.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, "unsafe defaults": NODE_ENV defaulted to development (compose too); local
 * threads were mounted in production and guarded by the TCP peer alone, so a `text/plain`
 * post from any web page (CSRF) or a DNS-rebound name could write and read threads; Slack
 * shared channels defaulted to `warn` and the check failed open without its scopes; /metrics
 * was open. (`handoff serve` itself: test/e2e/serve.test.ts.)
 */

interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request with exactly these headers (fetch may not set Host), to 127.0.0.1:<port>. */
function raw(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(port), path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const codeOf = (answer: RawAnswer) => (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;

/** The settings production requires, for an in-process bridge. */
const productionEnv = () => ({
  NODE_ENV: 'production',
  REDIS_URL: redisUrl,
  HANDOFF_API_TOKEN: `prod-${randomBytes(16).toString('hex')}`,
  HANDOFF_VAULT_KEY: randomBytes(32).toString('base64'),
});

describe('defaults in production', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    const env = productionEnv();
    bridge = await startTestBridge('prod-defaults', { env, apiToken: env.HANDOFF_API_TOKEN });
  });
  afterAll(async () => bridge?.close());

  it('serves no local threads: no pages, no routes, and a local: thread is refused naming HANDOFF_LOCAL_THREADS', async () => {
    const host = new URL(bridge.url).host;
    expect((await raw(bridge.url, '/threads/demo', { headers: { host } })).status).toBe(404);
    const post = await raw(bridge.url, '/v1/threads/local/demo/messages', {
      method: 'POST',
      headers: { host, 'content-type': 'application/json' },
      body: JSON.stringify({ author: 'mallory', text: 'hi' }),
    });
    expect(post.status).toBe(404);
    const created = await fetch(`${bridge.url}/v1/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'https://api.example.com', thread: 'local:demo', agent: { id: 'a' } }),
    });
    expect(created.status).toBe(400);
    const error = ((await created.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('platform_not_configured');
    expect(error.message).toContain('HANDOFF_LOCAL_THREADS=on');
  });

  it('answers /metrics only with HANDOFF_METRICS_TOKEN, which is not set here (403, and the API token does not open it)', async () => {
    const open = await fetch(`${bridge.url}/metrics`);
    expect(open.status).toBe(403);
    expect(((await open.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'metrics_token_required',
      message: expect.stringContaining('HANDOFF_METRICS_TOKEN'),
    });
    expect(
      (await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${bridge.apiToken}` } })).status,
    ).toBe(403);
  });
});

describe('production with local threads and metrics turned on', () => {
  let bridge: TestBridge;
  const metricsToken = `metrics-${randomBytes(12).toString('hex')}`;
  beforeAll(async () => {
    const env = productionEnv();
    bridge = await startTestBridge('prod-opt-in', {
      env: {
        ...env,
        HANDOFF_LOCAL_THREADS: 'on',
        HANDOFF_METRICS_TOKEN: metricsToken,
        HANDOFF_PUBLIC_URL: 'https://handoff.example.com',
      },
      apiToken: env.HANDOFF_API_TOKEN,
    });
  });
  afterAll(async () => bridge?.close());

  it('reads /metrics with its own token only', async () => {
    expect((await fetch(`${bridge.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${bridge.apiToken}` } })).status,
    ).toBe(401);
    const ok = await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/handoff_queue_jobs\{queue="handoffs",state="waiting"\} \d+/);
  });

  it('answers at HOST:PORT and the public name only; localhost is a development name', async () => {
    const port = new URL(bridge.url).port;
    for (const host of [`127.0.0.1:${port}`, 'handoff.example.com', 'HANDOFF.example.com:443']) {
      expect((await raw(bridge.url, '/threads/demo', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [
      `localhost:${port}`,
      `evil.example:${port}`,
      'handoff.example.com.evil.example',
      `handoff.example.com:${port}`,
    ]) {
      const answer = await raw(bridge.url, '/v1/threads/local/demo/messages', { headers: { host } });
      expect(answer.status, host).toBe(403);
      expect(codeOf(answer)).toBe('host_not_allowed');
    }
  });
});

describe('local threads in development: CSRF and DNS rebinding', () => {
  let bridge: TestBridge;
  let host: string;
  let port: string;
  beforeAll(async () => {
    bridge = await startTestBridge('local-guard');
    host = new URL(bridge.url).host;
    port = new URL(bridge.url).port;
  });
  afterAll(async () => bridge?.close());

  const post = (
    thread: string,
    headers: Record<string, string>,
    body = JSON.stringify({ author: 'mallory', text: 'aae_forged' }),
  ) => raw(bridge.url, `/v1/threads/local/${thread}/messages`, { method: 'POST', headers: { host, ...headers }, body });

  it('refuses what a web page on another site can send: text/plain, forms, a foreign Origin, Origin null, Sec-Fetch-Site cross-site', async () => {
    const thread = freshThread('csrf').slice(6);
    const attempts: Array<[string, Record<string, string>, string, number]> = [
      ['text/plain with a JSON body', { 'content-type': 'text/plain' }, 'unsupported_media_type', 415],
      ['a form post', { 'content-type': 'application/x-www-form-urlencoded' }, 'unsupported_media_type', 415],
      ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, 'unsupported_media_type', 415],
      ['no content type', {}, 'unsupported_media_type', 415],
      [
        'JSON from another origin',
        { 'content-type': 'application/json', origin: 'https://evil.example' },
        'cross_site_request',
        403,
      ],
      [
        'JSON from a look-alike origin',
        { 'content-type': 'application/json', origin: `http://127.0.0.1.evil.example:${port}` },
        'cross_site_request',
        403,
      ],
      [
        'Origin null (sandboxed frame, data: URL)',
        { 'content-type': 'application/json', origin: 'null' },
        'cross_site_request',
        403,
      ],
      [
        'Sec-Fetch-Site cross-site',
        { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
        'cross_site_request',
        403,
      ],
    ];
    for (const [what, headers, code, status] of attempts) {
      const answer = await post(thread, headers);
      expect(answer.status, what).toBe(status);
      expect(codeOf(answer), what).toBe(code);
    }
    expect(await bridge.messages(`local:${thread}`)).toEqual([]);
  });

  it('takes JSON from its own page (same Origin) and from clients that send no Origin, like the CLI', async () => {
    const thread = freshThread('csrf-ok').slice(6);
    expect((await post(thread, { 'content-type': 'application/json', origin: bridge.url })).status).toBe(201);
    expect(
      (
        await post(thread, {
          'content-type': 'application/json; charset=utf-8',
          origin: `http://localhost:${port}`,
          host: `localhost:${port}`,
        })
      ).status,
    ).toBe(201);
    const cli = createBridgeClient({ baseUrl: bridge.url, apiToken: bridge.apiToken });
    expect((await cli.replyLocal(thread, 'alice', 'hello from the CLI')).ack).toBe('ignored');
    expect((await bridge.messages(`local:${thread}`)).map((m) => m.author)).toEqual(['mallory', 'mallory', 'alice']);
  });

  it('reads and writes only under its own names, so a DNS-rebound page sees nothing', async () => {
    const thread = freshThread('rebind');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'rebind' },
    });
    await waitFor('approval posted', async () =>
      (await bridge.messages(thread)).some((m) => m.text.includes(created.id)),
    );
    const name = thread.slice(6);
    for (const path of [`/threads/${name}`, `/v1/threads/local/${name}/messages`]) {
      for (const rebound of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.nip.io:${port}`]) {
        const answer = await raw(bridge.url, path, { headers: { host: rebound } });
        expect(answer.status, `${path} as ${rebound}`).toBe(403);
        expect(answer.body).not.toContain('/sandbox/authorize/');
      }
      for (const own of [host, `localhost:${port}`, `[::1]:${port}`])
        expect((await raw(bridge.url, path, { headers: { host: own } })).status, `${path} as ${own}`).toBe(200);
    }
    const forged = await raw(bridge.url, `/v1/threads/local/${name}/messages`, {
      method: 'POST',
      headers: {
        host: `attacker.example:${port}`,
        'content-type': 'application/json',
        origin: `http://attacker.example:${port}`,
      },
      body: JSON.stringify({ author: 'mallory', text: 'done' }),
    });
    expect(forged.status).toBe(403);
    await bridge.api.cancelHandoff(created.id);
  });

  it('the page posts replies as JSON (no form fallback)', async () => {
    const page = await raw(bridge.url, '/threads/demo', { headers: { host } });
    expect(page.body).toContain("headers: { 'content-type': 'application/json' }");
    expect(page.body).not.toMatch(/<form[^>]*\baction=/);
    expect(page.body).not.toMatch(/<form[^>]*method="post"/i);
  });
});

describe('Slack shared channels', () => {
  let h: SlackTestBridge;
  beforeAll(async () => {
    h = await startSlackTestBridge('slack-defaults');
  });
  afterAll(async () => h?.close());

  const failure = async (id: string) =>
    waitFor('failure', async () => {
      const v = await h.bridge.api.getHandoff(id);
      return v.status === 'failed' ? v : undefined;
    });

  it('refuses a channel shared with another organization by default', async () => {
    const channel = 'C0SHARED0DEF';
    h.slack.state.externallyShared.set(channel, 'shared');
    const created = await h.bridge.api.createHandoff({
      service: `${h.bridge.url}/sandbox`,
      thread: h.newThread(channel),
      agent: { id: 'shared' },
      approvers: [alice.id],
    });
    expect((await failure(created.id)).error?.code).toBe('public_thread');
    expect(h.slack.state.ephemeral.filter((e) => e.channel === channel)).toEqual([]);
  });

  it('without channels:read / groups:read fails closed, naming the scope, and posts no link', async () => {
    h.slack.state.withoutScopes.add('channels:read').add('groups:read');
    try {
      for (const channel of ['C0NOSCOPE0AB', 'G0NOSCOPE0AB']) {
        const thread = h.newThread(channel);
        const created = await h.bridge.api.createHandoff({
          service: `${h.bridge.url}/sandbox`,
          thread,
          agent: { id: 'blind' },
          approvers: [alice.id],
        });
        const view = await failure(created.id);
        expect(view.error?.code).toBe('slack_missing_scope');
        expect(view.error?.message).toContain(channel.startsWith('G') ? 'groups:read' : 'channels:read');
        expect(view.approvalUrl).toBeNull();
        expect(h.slack.state.ephemeral.filter((e) => e.channel === channel)).toEqual([]);
        expect(h.botTexts(thread).join('\n')).not.toMatch(/\/sandbox\/authorize\//);
      }
    } finally {
      h.slack.state.withoutScopes.clear();
    }
  });
});

describe('docker-compose.yml', () => {
  it('runs the bridge in production unless NODE_ENV says otherwise', () => {
    const compose = readFileSync(`${repoRoot}/docker-compose.yml`, 'utf8');
    expect(compose).toMatch(/NODE_ENV: \$\{NODE_ENV:-production\}/);
    expect(compose).not.toMatch(/NODE_ENV:-development/);
    expect(compose).toMatch(/exec node bin\/handoff\.js serve"/);
  });
});
