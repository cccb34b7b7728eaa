import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridgeClient } from '../../src/client/bridge-client.js';
import { systemClock } from '../../src/core/clock.js';
import { enabledProtocols } from '../../src/core/config-login.js';
import { BadInputError, ConfigError, HandoffError, InternalError } from '../../src/core/errors.js';
import type { LoginProtocol } from '../../src/core/login-protocol.js';
import { findSecrets, maskSecrets, registerSecretShapes, secretLike } from '../../src/core/secret-patterns.js';
import { parseHandoffRequest } from '../../src/engine/handoff-request.js';
import { createProtocolRegistry } from '../../src/engine/registries.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import type { ProtocolModule } from '../../src/login/protocol-module.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loadHandoffConfig as loadConfig, loginProtocols, startHandoff, type RunningHandoff } from '../../src/main.js';
import { redisUrl } from '../helpers/environment.js';
import { captureLogs } from '../helpers/logs.js';
import { developmentPolicy } from '../helpers/network.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { startSandboxes } from '../helpers/sandbox-server.js';

/**
 * A login protocol describes itself: a throwaway protocol defined here, in test/, joins the
 * registry with no file under src/ edited. Discovery picks it by its rank (and runs its probe
 * when no metadata is recognised); config, the request check and secret masking accept it.
 */

const ctx = { agentId: 'registry-test', correlationId: 'corr-registry' };

/** What the throwaway protocol builds: enough to be told apart, never used to log in here. */
const smokeLogin = (name: string): LoginProtocol => ({
  name,
  start: () => Promise.reject(new Error('not used')),
  complete: () => Promise.reject(new Error('not used')),
});

/**
 * "Smoke signals": recognised by the service's own name in its resource metadata (the sandbox
 * instance below, which also speaks the device flow, calls itself "Smoke Signals").
 */
const smokeSignals = (rank: number): ProtocolModule => ({
  name: 'smoke-signals',
  rank,
  recognises: (found) => found.resourceName === 'Smoke Signals',
  secretShapes: [secretLike(String.raw`smk_[A-Za-z0-9]{16,}`)],
  create: () => smokeLogin('smoke-signals'),
});

/** "Pigeon post": publishes no metadata; its probe asks the service's API root and counts on a 401. */
const probeCalls: string[] = [];
const pigeonPost = (rank: number): ProtocolModule => ({
  name: 'pigeon-post',
  rank,
  recognises: () => false,
  async probe(service, fetcher) {
    probeCalls.push(service);
    const res = await fetcher.request(service);
    return { speaks: res.status === 401, finding: `${service} answered ${res.status} to the pigeon` };
  },
  secretShapes: [],
  create: () => smokeLogin('pigeon-post'),
});

const errorOf = async (promise: Promise<unknown>): Promise<HandoffError> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HandoffError) return err;
    throw err;
  }
  throw new Error('expected a HandoffError');
};

describe('a throwaway protocol in the registry', () => {
  let services: Awaited<ReturnType<typeof startSandboxes>>;
  const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 10 });
  const discoveryWith = (protocols: readonly ProtocolModule[]) =>
    createServiceDiscovery({ protocols, http, cacheTtlMs: 0, clock: systemClock, policy: developmentPolicy });

  beforeAll(async () => {
    services = await startSandboxes([
      { base: '/smoke', options: { serviceName: 'Smoke Signals', protocols: ['device'] } },
      { base: '/files', options: { serviceName: 'Sandbox Files', protocols: ['device'] } },
      // No metadata: only a probe can tell what it speaks (here, agent sessions).
      { base: '/bare', options: { protocols: ['agent-sessions'], metadata: false } },
    ]);
  });
  afterAll(async () => {
    await services.close();
  });

  it('is chosen when its rank beats the device flow the same service offers', async () => {
    const registry = [...loginProtocols, smokeSignals(5)];
    const names = enabledProtocols(undefined, registry);
    expect(names).toEqual(['smoke-signals', 'authmd', 'device', 'ciba', 'agent-sessions']);
    const chosen = await discoveryWith(registry).choose(`${services.origin}/smoke`, names, ctx);
    expect(chosen).toMatchObject({ protocol: 'smoke-signals', serviceName: 'Smoke Signals' });
  });

  it('loses to the device flow when ranked after it, and is not chosen where it is not recognised', async () => {
    const registry = [smokeSignals(25), ...loginProtocols];
    const names = enabledProtocols(undefined, registry);
    expect(names).toEqual(['authmd', 'device', 'ciba', 'smoke-signals', 'agent-sessions']);
    expect((await discoveryWith(registry).choose(`${services.origin}/smoke`, names, ctx)).protocol).toBe('device');
    // Alone, it is chosen on its service and refused where its recognition fails.
    const alone = discoveryWith(registry);
    expect((await alone.choose(`${services.origin}/smoke`, ['smoke-signals'], ctx)).protocol).toBe('smoke-signals');
    const err = await errorOf(alone.choose(`${services.origin}/files`, ['smoke-signals'], ctx));
    expect(err.code).toBe('no_supported_login');
  });

  it('is not chosen when the bridge does not speak it, whatever its rank', async () => {
    const registry = [...loginProtocols, smokeSignals(1)];
    const chosen = await discoveryWith(registry).choose(`${services.origin}/smoke`, ['device', 'authmd'], ctx);
    expect(chosen.protocol).toBe('device');
  });

  it('has its probe run when no metadata is recognised, and wins over agent sessions by rank', async () => {
    probeCalls.length = 0;
    const before = [...loginProtocols, pigeonPost(25)];
    const names = enabledProtocols(undefined, before);
    const found = await discoveryWith(before).discover(`${services.origin}/bare`, ctx);
    expect(found.probed).toEqual({ 'pigeon-post': true, 'agent-sessions': true });
    expect((await discoveryWith(before).choose(`${services.origin}/bare`, names, ctx)).protocol).toBe('pigeon-post');
    const after = [...loginProtocols, pigeonPost(35)];
    expect((await discoveryWith(after).choose(`${services.origin}/bare`, names, ctx)).protocol).toBe('agent-sessions');
    // A service whose metadata a protocol recognises is never probed.
    probeCalls.length = 0;
    await discoveryWith(before).choose(`${services.origin}/files`, names, ctx);
    expect(probeCalls).toEqual([]);
  });

  it('is a name config accepts, and one config refuses while no module registers it', () => {
    const listed = loadConfig({ NODE_ENV: 'development', HANDOFF_PROTOCOLS: 'smoke-signals, device' }).login.protocols;
    expect(enabledProtocols(listed, [...loginProtocols, smokeSignals(5)])).toEqual(['smoke-signals', 'device']);
    expect(() => enabledProtocols(listed, loginProtocols)).toThrow(ConfigError);
    expect(() => enabledProtocols(listed, loginProtocols)).toThrow(/"smoke-signals" is not one/);
  });

  it('may not take a registered name again, nor a name of the wrong shape', () => {
    const twin: ProtocolModule = { ...smokeSignals(40), name: 'device' };
    expect(() => enabledProtocols(undefined, [...loginProtocols, twin])).toThrow(/share the name "device"/);
    const odd: ProtocolModule = { ...smokeSignals(40), name: 'Smoke Signals' };
    expect(() => enabledProtocols(undefined, [...loginProtocols, odd])).toThrow(InternalError);
  });

  it('is a protocol a request may name, and the bridge that registers it speaks it', () => {
    const request = parseHandoffRequest({
      service: 'https://smoke.example',
      thread: 'local:x',
      protocol: 'smoke-signals',
    });
    expect(request.protocol).toBe('smoke-signals');
    const module = smokeSignals(5);
    const registry = createProtocolRegistry([module.create({} as never)]);
    expect(registry.names).toEqual(['smoke-signals']);
    expect(registry.get('smoke-signals').name).toBe('smoke-signals');
    // Without it, the same request is refused naming what the bridge does speak.
    const without = createProtocolRegistry([smokeLogin('device')]);
    let refused: unknown;
    try {
      without.get('smoke-signals');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(BadInputError);
    expect(refused).toMatchObject({ code: 'unsupported_protocol', details: { field: 'protocol' } });
    expect((refused as Error).message).toContain('use one of: device');
  });

  it('has its secret shape masked once registered', () => {
    const token = `smk_${'Q7x2'.repeat(6)}`;
    expect(findSecrets(`token ${token}`)).toEqual([]);
    registerSecretShapes(smokeSignals(5).secretShapes);
    expect(maskSecrets(`token ${token} seen`)).toBe('token [redacted] seen');
  });
});

/**
 * The same kind of throwaway protocol, this time able to log in: its finish code is `smk_…`,
 * which it remembers per handoff so the test can play the approver.
 */
const issuedCodes = new Map<string, string>();
const smokeSignalsLogin: ProtocolModule = {
  ...smokeSignals(5),
  create: ({ clock }) => ({
    name: 'smoke-signals',
    start(req) {
      const code = `smk_${randomBytes(12).toString('hex')}`;
      issuedCodes.set(req.handoffId, code);
      return Promise.resolve({
        approvalUrl: `${req.service}/smoke-page`,
        expiresAt: clock.now() + 10 * 60_000,
        answer: 'finish_code' as const,
        secret: { code },
      });
    },
    complete(secret, code) {
      return Promise.resolve(
        code === secret.code
          ? {
              kind: 'credential' as const,
              credential: { accessToken: `smoke-access-${'x'.repeat(8)}`, tokenType: 'Bearer' as const, scopes: [] },
            }
          : { kind: 'wrong_code' as const, code: 'invalid_code', message: 'That is not the signal.' },
      );
    },
  }),
};

describe('a bridge whose registry holds a throwaway protocol', () => {
  const prefix = randomPrefix('registry');
  let running: RunningHandoff;
  let url: string;
  const apiToken = `test-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      HANDOFF_PREFIX: prefix,
      HANDOFF_PROTOCOLS: 'smoke-signals,device',
    });
    running = await startHandoff(config, {
      redisUrl,
      vaultKey: randomBytes(32),
      apiToken,
      logger: captureLogs('protocol-registry').logger,
      loginProtocols: [...loginProtocols, smokeSignalsLogin],
      extraSandboxes: [{ base: '/smoke', options: { serviceName: 'Smoke Signals', protocols: ['device'] } }],
      serviceHttp: { backoffMs: 20 },
    });
    url = running.bridge.url!;
  });
  afterAll(async () => {
    await running?.bridge.close();
    const redis = connectTestRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const waitFor = async (id: string, status: string) => {
    const api = createBridgeClient({ baseUrl: url, apiToken });
    let view = await api.getHandoff(id);
    for (let i = 0; i < 40 && view.status !== status; i++)
      view = await api.getHandoff(id, { waitMs: 500, ifStatus: view.status });
    expect(view.status).toBe(status);
    return view;
  };

  it('chooses it for "auto" by rank, posts its link, and finishes with its code from the thread', async () => {
    const api = createBridgeClient({ baseUrl: url, apiToken });
    const thread = `registry-${randomBytes(4).toString('hex')}`;
    const created = await api.createHandoff({
      service: `${url}/smoke`,
      thread: `local:${thread}`,
      agent: { id: 'smoker' },
    });
    expect(created.protocol).toBe('auto');
    const waiting = await waitFor(created.id, 'awaiting_human');
    expect(waiting).toMatchObject({ protocol: 'smoke-signals', serviceName: 'Smoke Signals' });

    await api.replyLocal(thread, 'alice', `here it is: smk_${'0'.repeat(24)}`);
    await api.replyLocal(thread, 'alice', `here it is: ${issuedCodes.get(created.id)!}.`);
    await waitFor(created.id, 'completed');
    expect((await api.retrieveCredential(created.id)).accessToken).toBe(`smoke-access-${'x'.repeat(8)}`);

    // The thread got its link; the code, shaped as the protocol declared, is masked in the thread's copy.
    const res = await fetch(`${url}/v1/threads/local/${thread}/messages`);
    const texts = ((await res.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text);
    expect(texts.some((t) => t.includes(`${url}/smoke/smoke-page`))).toBe(true);
    expect(texts.join('\n')).not.toContain(issuedCodes.get(created.id)!);
    expect(texts.join('\n')).not.toContain(`smk_${'0'.repeat(24)}`);
    expect(texts.some((t) => t.includes('here it is: [redacted]'))).toBe(true);
  });

  it('takes it by name in a request, and still refuses a name no module registers', async () => {
    const api = createBridgeClient({ baseUrl: url, apiToken });
    const named = await api.createHandoff({
      service: `${url}/smoke`,
      thread: 'local:registry-named',
      agent: { id: 'smoker' },
      protocol: 'smoke-signals',
    });
    expect(named.protocol).toBe('smoke-signals');
    const refused = await errorOf(
      api.createHandoff({
        service: `${url}/smoke`,
        thread: 'local:registry-named',
        agent: { id: 'smoker' },
        protocol: 'telepathy',
      }),
    );
    expect(refused.code).toBe('unsupported_protocol');
    expect(refused.message).toContain('use one of: smoke-signals, device');
  });
});
