import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from '../src/store/redis.js';
import { systemClock } from '../src/core/clock.js';
import type { ProtocolName } from '../src/core/login-protocol.js';
import { silentLogger } from '../src/core/logger.js';
import { createHttpServer } from '../src/http/http-server.js';
import { createServiceDiscovery } from '../src/login/discovery.js';
import { loginProtocols } from '../src/main.js';
import { createServiceHttp } from '../src/login/service-http.js';
import { createNetworkPolicy } from '../src/core/network-policy.js';

const developmentPolicy = createNetworkPolicy({ production: false });
import { createSandbox } from '../src/sandbox/index.js';
import { createJsonCache } from '../src/store/json-cache.js';
import { createKeys } from '../src/store/keys.js';
import { summarise, type Summary } from './stats.js';

/**
 * Figure 4: what protocol "auto" costs before a login starts. Three sandbox services on one
 * loopback server (agent sessions, auth.md, device); `choose()` as the driver calls it, with
 * an empty cache (every request made: the 401, both metadata documents, and for agent
 * sessions the probe) and with the result cached in Redis.
 */
export interface DiscoveryResult {
  readonly n: number;
  readonly coldMs: Summary;
  readonly cachedMs: Summary;
  /** HTTP requests one cold discovery makes, averaged over the three services. */
  readonly requestsPerCold: number;
}

const all: ProtocolName[] = ['agent-sessions', 'authmd', 'device'];

export async function measureDiscovery(options: { redis: Redis; prefix: string; n: number }): Promise<DiscoveryResult> {
  const sandboxes = [
    createSandbox({ protocols: ['agent-sessions'] }, '/analytics'),
    createSandbox({ protocols: ['authmd'] }, '/notes'),
    createSandbox({ protocols: ['device'] }, '/files'),
  ];
  const server: Server = createHttpServer({ routes: sandboxes.flatMap((s) => s.routes), logger: silentLogger });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const services = sandboxes.map((s) => `${origin}${s.base}`);
  const ctx = { agentId: 'bench', correlationId: 'bench-discovery' };
  const http = createServiceHttp({ policy: developmentPolicy, maxBodyBytes: 256 * 1024, retries: 1 });
  const cache = createJsonCache({ redis: options.redis, keys: createKeys(options.prefix), namespace: 'discovery' });
  const cold = createServiceDiscovery({
    protocols: loginProtocols,
    http,
    cacheTtlMs: 0,
    clock: systemClock,
    policy: developmentPolicy,
  });
  const cached = createServiceDiscovery({
    protocols: loginProtocols,
    http,
    cache,
    cacheTtlMs: 10 * 60_000,
    clock: systemClock,
    policy: developmentPolicy,
  });
  const calls = () => sandboxes.reduce((sum, s) => sum + s.state.calls.length, 0);

  try {
    const time = async (d: typeof cold, service: string) => {
      const started = performance.now();
      await d.choose(service, all, ctx);
      return performance.now() - started;
    };
    for (const service of services) await time(cold, service); // warm the connections and the JIT
    const coldSamples: number[] = [];
    const before = calls();
    for (let i = 0; i < options.n; i++) coldSamples.push(await time(cold, services[i % services.length]!));
    const requestsPerCold = (calls() - before) / options.n;
    for (const service of services) await time(cached, service); // fill the cache
    const cachedSamples: number[] = [];
    for (let i = 0; i < options.n; i++) cachedSamples.push(await time(cached, services[i % services.length]!));
    return { n: options.n, coldMs: summarise(coldSamples), cachedMs: summarise(cachedSamples), requestsPerCold };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
