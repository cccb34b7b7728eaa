import { join } from 'node:path';
import { benchPart } from './bench-part.js';
import { measureDiscovery } from './discovery.js';
import { measureLinearFirstPost } from './first-post.js';
import { measureGithubIdlePolling, type IdlePollingResult } from './github-polling.js';
import { measureGithubWebhooks, type WebhookResult } from './github-webhooks.js';
import { measureLinearWebhooks } from './linear-webhooks.js';
import { deletePrefix } from './redis-tools.js';
import { runSlackBench } from './slack-bench.js';
import { round } from './stats.js';

/** Inbound Slack events per second one bridge process must take (issue #4). */
export const slackInboundTarget = 2_000;
/** Rate-limited GitHub calls per hour that idle polling may spend, 100 handoffs in 10 repos (issue #5). */
export const idlePollingCallsTarget = 100;

export const discoveryPart = benchPart({
  name: 'discovery',
  title: 'protocol discovery, cold and cached',
  flags: { discovery: '300' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-disc`);
    try {
      return await measureDiscovery({ redis: ctx.redis, prefix, n: ctx.int('discovery') });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: ({ n, coldMs, cachedMs, requestsPerCold }) => [
    {
      figure: `protocol discovery, cold, p50 / p95 (n=${n})`,
      measured: `${round(coldMs.p50)} / ${round(coldMs.p95)} ms`,
      target: '',
      pass: undefined,
    },
    {
      figure: '  HTTP requests per cold discovery',
      measured: String(round(requestsPerCold)),
      target: '',
      pass: undefined,
    },
    {
      figure: '  cached in Redis, p50 / p95',
      measured: `${round(cachedMs.p50, 2)} / ${round(cachedMs.p95, 2)} ms`,
      target: '',
      pass: undefined,
    },
  ],
});

export const slackPart = benchPart({
  name: 'slack',
  title: 'Slack adapter: inbound events and reply → resume',
  flags: { 'slack-events': '10000', 'slack-n': '200', warmup: '20' },
  run: (ctx) =>
    runSlackBench({
      redis: ctx.redis,
      redisUrl: ctx.redisUrl,
      base: ctx.base,
      logDir: ctx.logDir,
      serviceUrl: ctx.serviceUrl,
      events: ctx.int('slack-events'),
      n: ctx.int('slack-n'),
      warmup: ctx.int('warmup'),
      progress: (msg) => ctx.progress(`    ${msg}`),
      track: (prefix) => ctx.track(prefix),
    }),
  checks: ({ inbound, latency: { ms } }) => [
    {
      figure: `Slack events in/s: signature + dedupe + enqueue (n=${inbound.events}, ${inbound.concurrency} in flight)`,
      measured: `${Math.round(inbound.handlerPerSecond)} /s`,
      target: `≥ ${slackInboundTarget} /s`,
      pass: inbound.handlerPerSecond >= slackInboundTarget,
    },
    {
      figure: '  same over HTTP (load from a separate process)',
      measured: `${Math.round(inbound.httpPerSecond)} /s`,
      target: '',
      pass: undefined,
    },
    {
      figure: `Slack reply → agent resumed, p50 / p95 / p99 (n=${ms.count})`,
      measured: `${ms.p50} / ${ms.p95} / ${ms.p99} ms`,
      target: '',
      pass: undefined,
    },
    { figure: '  max', measured: `${ms.max} ms`, target: '', pass: undefined },
  ],
});

export const githubPart = benchPart<{ webhooks: WebhookResult; polling: IdlePollingResult }>({
  name: 'github',
  title: 'GitHub adapter: webhook deliveries and idle polling cost',
  flags: { webhooks: '3000' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-github`);
    try {
      const webhooks = await measureGithubWebhooks({
        prefix,
        redisUrl: ctx.redisUrl,
        logFile: join(ctx.logDir, `${prefix}.log`),
        deliveries: ctx.int('webhooks') + 20,
        concurrency: 32,
      });
      const polling = await measureGithubIdlePolling({ redis: ctx.redis, prefix, repos: 10, handoffs: 100, rounds: 5 });
      return { webhooks, polling };
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: ({ webhooks: w, polling: p }) => [
    {
      figure: `GitHub webhook deliveries/s (verify, dedupe, enqueue; n=${w.deliveries}, ${w.concurrency} at once)`,
      measured: `${round(w.perSecond)} /s`,
      target: 'none set',
      pass: undefined,
    },
    {
      figure: '  delivery → 202, p50 / p99',
      measured: `${w.latencyMs.p50} / ${w.latencyMs.p99} ms`,
      target: '',
      pass: undefined,
    },
    {
      figure: `GitHub idle polling, rate-limited calls/hour (${p.handoffs} handoffs, ${p.repos} repos, every ${round(p.intervalMs / 1000)} s)`,
      measured: `${p.countedFirstHour} in the first hour, then ${p.countedPerHourSteady}/h`,
      target: `< ${idlePollingCallsTarget}`,
      pass: p.countedFirstHour < idlePollingCallsTarget,
    },
    { figure: '  conditional 304s/hour (free)', measured: `${p.notModifiedPerHour}`, target: '', pass: undefined },
    {
      figure: '  per round: counted 200s / free 304s',
      measured: p.perRound.map((r) => `${r.counted}/${r.notModified}`).join(', '),
      target: '',
      pass: undefined,
    },
  ],
});

export const linearPart = benchPart({
  name: 'linear',
  title: 'Linear adapter: webhook deliveries',
  flags: { webhooks: '3000' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-linear`);
    try {
      return await measureLinearWebhooks({
        redisUrl: ctx.redisUrl,
        prefix,
        logFile: join(ctx.logDir, `${prefix}.log`),
        deliveries: ctx.int('webhooks'),
        concurrency: 32,
      });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: (linear) => [
    {
      figure: `Linear webhook deliveries/s, verify → dedupe → enqueue (n=${linear.deliveries}, ${linear.concurrency} at a time)`,
      measured: `${round(linear.perSecond)} /s`,
      target: 'none set',
      pass: undefined,
    },
    {
      figure: '  per delivery, p50 / p99',
      measured: `${linear.latencyMs.p50} / ${linear.latencyMs.p99} ms`,
      target: '',
      pass: undefined,
    },
    {
      figure: '  queued once each; redeliveries answered as duplicates',
      measured: `${linear.queued}/${linear.deliveries} queued, ${linear.duplicatesAnswered}/${linear.redelivered} duplicates`,
      target: 'all',
      pass: linear.queued === linear.deliveries && linear.duplicatesAnswered === linear.redelivered,
    },
  ],
});

/** Issue #16 item 9: the approval request visible on Linear this soon after the request, ms. */
const firstPostTargetMs = 500;

export const linearPostPart = benchPart({
  name: 'linear-post',
  title: 'Linear: request → approval comment visible',
  flags: { 'linear-n': '20' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-linpost`);
    try {
      return await measureLinearFirstPost({
        redisUrl: ctx.redisUrl,
        prefix,
        logFile: join(ctx.logDir, `${prefix}.log`),
        serviceUrl: ctx.serviceUrl,
        n: ctx.int('linear-n'),
      });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: ({ firstMs, laterMs }) => [
    {
      figure: 'Linear: request → approval comment, first on a fresh bridge',
      measured: `${round(firstMs)} ms`,
      target: `≤ ${firstPostTargetMs} ms`,
      pass: firstMs <= firstPostTargetMs,
    },
    {
      figure: `  later ones, p50 / max (n=${laterMs.count})`,
      measured: `${round(laterMs.p50)} / ${round(laterMs.max)} ms`,
      target: `p50 ≤ ${firstPostTargetMs} ms`,
      pass: laterMs.p50 <= firstPostTargetMs,
    },
  ],
  details: ({ requestsPerPost }) =>
    `Linear API requests per approval post: ${Object.entries(requestsPerPost)
      .map(([field, n]) => `${field} ${round(n, 2)}`)
      .join(', ')}`,
});
