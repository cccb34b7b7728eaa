import type { Redis } from '../src/store/redis.js';
import { createGithubPlatform } from '../adapters/github/github-platform.js';
import { loadPlatformConfig as loadConfig } from '../test/helpers/platform-config.js';
import { silentLogger } from '../src/core/logger.js';
import { startFakeGithub } from '../test/fakes/github/fake-github-server.js';
import { redisKeyValue } from '../src/app/redis-key-value.js';
import { createKeys } from '../src/store/keys.js';

/**
 * What polling costs GitHub's rate limit when nothing happens: `handoffs` waiting handoffs
 * spread over `repos` repositories, each with its approval comment posted. The real poller
 * (the one the poll job runs) polls every repository for `rounds` rounds against the fake
 * GitHub, which answers ETags and 304s like GitHub. Counted calls are the 200s; 304s to
 * conditional requests are free on GitHub. Per hour = per round × (3,600,000 / the interval
 * the poller asked for); see bench/README.md for the arithmetic.
 */
export interface IdlePollingResult {
  readonly repos: number;
  readonly handoffs: number;
  readonly rounds: number;
  /** Interval the poller asked for with a healthy rate budget, ms. */
  readonly intervalMs: number;
  /** Counted (200) and free (304) requests in each round. */
  readonly perRound: ReadonlyArray<{ readonly counted: number; readonly notModified: number }>;
  /** Rounds of the first hour at that interval. */
  readonly roundsPerHour: number;
  /** Counted calls in the first hour (the measured rounds, then the steady round repeated). */
  readonly countedFirstHour: number;
  /** Counted calls per hour once every repository has its ETag. */
  readonly countedPerHourSteady: number;
  /** Free 304s per hour in the steady state. */
  readonly notModifiedPerHour: number;
}

export async function measureGithubIdlePolling(options: {
  redis: Redis;
  prefix: string;
  repos: number;
  handoffs: number;
  rounds: number;
}): Promise<IdlePollingResult> {
  const fake = await startFakeGithub();
  try {
    const perRepo = Math.ceil(options.handoffs / options.repos);
    const names = Array.from({ length: options.repos }, (_, i) => `bench-org/service-${i}`);
    for (const name of names)
      fake.state.addRepo(name, { private: true, issues: Array.from({ length: perRepo }, (_, i) => i + 1) });
    const config = loadConfig({
      NODE_ENV: 'development',
      GITHUB_TOKEN: fake.auth.addToken('handoff-bench'),
      GITHUB_API_URL: fake.url,
    }).github!;
    const platform = createGithubPlatform({
      config,
      store: redisKeyValue(options.redis, createKeys(options.prefix).adapter('github')),
      sink: async () => 'accepted',
      now: Date.now,
      logger: silentLogger,
    });
    const poller = platform.poller!;

    // The waiting handoffs: one approval comment each, as the outbound queue posts them.
    const threads: string[] = [];
    for (let i = 0; i < options.handoffs; i++) {
      const thread = platform.adapter.parseThread(
        `github:${names[i % options.repos]}#${1 + Math.floor(i / options.repos)}`,
      );
      threads.push(thread.ref);
      await platform.adapter.post(thread, {
        kind: 'approval_request',
        handoffId: `hf_bench${String(i).padStart(4, '0')}`,
        handoffTag: `#h-${String(i % 10_000).padStart(4, '0')}`,
        serviceName: 'Bench Analytics',
        serviceUrl: 'https://bench.example',
        agentId: 'bench-agent',
        scopes: ['account:read'],
        approvalUrl: `https://bench.example/authorize/ar_${i}`,
        answer: 'finish_code',
        expiresAt: Date.now() + 3_600_000,
        approvers: [],
      });
    }
    const scopes = poller.scopes(threads);
    if (scopes.length !== options.repos) throw new Error(`expected ${options.repos} poll scopes, got ${scopes.length}`);

    const isPoll = (path: string) => /^\/repos\/[^/]+\/[^/]+\/issues\/comments$/.test(path);
    const perRound: Array<{ counted: number; notModified: number }> = [];
    let intervalMs = config.polling.intervalMs;
    for (let round = 0; round < options.rounds; round++) {
      const before = fake.requests.length;
      for (const scope of scopes) intervalMs = (await poller.poll(scope)).nextPollMs;
      const requests = fake.requests.slice(before).filter((r) => isPoll(r.path));
      perRound.push({
        counted: requests.filter((r) => r.status === 200).length,
        notModified: requests.filter((r) => r.status === 304).length,
      });
    }
    const roundsPerHour = Math.floor(3_600_000 / intervalMs);
    const steady = perRound[perRound.length - 1]!;
    const measured = perRound.slice(0, roundsPerHour).reduce((sum, r) => sum + r.counted, 0);
    return {
      repos: options.repos,
      handoffs: options.handoffs,
      rounds: options.rounds,
      intervalMs,
      perRound,
      roundsPerHour,
      countedFirstHour: measured + steady.counted * Math.max(0, roundsPerHour - perRound.length),
      countedPerHourSteady: steady.counted * roundsPerHour,
      notModifiedPerHour: steady.notModified * roundsPerHour,
    };
  } finally {
    await fake.close();
  }
}
