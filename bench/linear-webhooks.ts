import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { openHandoffs } from './open-handoffs.js';
import { createLinearState } from '../adapters/linear/linear-state.js';
import { redisKeyValue } from '../src/app/redis-key-value.js';
import { loadHandoffConfig as loadConfig } from '../src/main.js';
import { createLogger } from '../src/core/logger.js';
import { startHandoff } from '../src/main.js';
import { bridgeEnv } from './inproc-bridge.js';
import { summarise, type Summary } from './stats.js';
import { createKeys } from '../src/store/keys.js';

/**
 * Figure 4: Linear webhook deliveries per second through the bridge's HTTP route — signature
 * and timestamp check (the SDK's LinearWebhookClient), parsing, the adapter's Redis lookup,
 * dedupe by delivery id and comment id, sealing the text and enqueueing the inbound job.
 * The bridge runs as `HANDOFF_ROLE=server` (HTTP only), so no worker competes for the CPU
 * and every accepted delivery is left in the inbound queue, where it is counted.
 * Each delivery is a distinct comment on an issue with a waiting handoff; afterwards a tenth
 * of them are delivered again and must all be answered as duplicates.
 */
export interface LinearWebhookResult {
  readonly deliveries: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly perSecond: number;
  /** Per delivery, POST → 200. */
  readonly latencyMs: Summary;
  /** Inbound jobs found in the queue afterwards (must equal `deliveries`). */
  readonly queued: number;
  readonly redelivered: number;
  readonly duplicatesAnswered: number;
}

export async function measureLinearWebhooks(options: {
  redisUrl: string;
  prefix: string;
  logFile: string;
  deliveries: number;
  concurrency: number;
}): Promise<LinearWebhookResult> {
  const secret = `lin_wh_${randomBytes(20).toString('hex')}`;
  const vaultKey = randomBytes(32);
  const apiToken = `bench-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    ...bridgeEnv({ prefix: options.prefix, redisUrl: options.redisUrl, apiToken, vaultKey }),
    HANDOFF_ROLE: 'server',
    LINEAR_API_KEY: `lin_api_${randomBytes(20).toString('hex')}`,
    LINEAR_API_URL: 'http://127.0.0.1:9/graphql', // never called on this path
    LINEAR_WEBHOOK_SECRET: secret,
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const logger = createLogger({ level: 'info', format: 'json', sink: (line) => log.write(`${line}\n`) });
  const running = await startHandoff(config, { redisUrl: options.redisUrl, vaultKey, apiToken, logger });
  const url = `${running.bridge.url}/linear/webhooks`;
  try {
    // An issue where the bridge has posted an approval: its comments are passed on.
    const issueId = randomUUID();
    await createLinearState(
      redisKeyValue(running.bridge.redis, createKeys(options.prefix).adapter('linear')),
    ).linkIssue('linear:BENCH-1', issueId);
    await openHandoffs(running.bridge.url!, apiToken, ['linear:BENCH-1']);

    const sign = (commentId: string, deliveryId: string) => {
      const body = JSON.stringify({
        action: 'create',
        type: 'Comment',
        actor: { id: 'u-bench', name: 'Bench Human', type: 'user' },
        data: {
          id: commentId,
          body: `finish code: aae_${randomBytes(24).toString('hex')}`,
          issueId,
          userId: 'u-bench',
          botActor: null,
          user: { id: 'u-bench', name: 'Bench Human' },
        },
        organizationId: 'org-bench',
        webhookId: 'wh-bench',
        webhookTimestamp: Date.now(),
      });
      const headers = {
        'content-type': 'application/json',
        'linear-delivery': deliveryId,
        'linear-signature': createHmac('sha256', secret).update(body).digest('hex'),
      };
      return { body, headers };
    };
    const hooks = Array.from({ length: options.deliveries }, () => sign(randomUUID(), randomUUID()));

    const post = async (hook: { body: string; headers: Record<string, string> }) => {
      const res = await fetch(url, { method: 'POST', headers: hook.headers, body: hook.body });
      const answer = (await res.json()) as { ack?: string };
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      return answer.ack;
    };
    const runAll = async (list: typeof hooks) => {
      const latencies: number[] = [];
      const acks: Array<string | undefined> = [];
      let next = 0;
      const startedAt = performance.now();
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < list.length) {
            const hook = list[next++]!;
            const t0 = performance.now();
            acks.push(await post(hook));
            latencies.push(performance.now() - t0);
          }
        }),
      );
      return { acks, latencies, wallMs: performance.now() - startedAt };
    };

    await runAll(Array.from({ length: 50 }, () => sign(randomUUID(), randomUUID()))); // warm-up, not counted
    const warmupJobs = (await running.bridge.queues.inbound.getJobCounts('wait')).wait ?? 0;
    const main = await runAll(hooks);
    if (main.acks.some((a) => a !== 'accepted')) throw new Error('a fresh delivery was not accepted');
    const queued = ((await running.bridge.queues.inbound.getJobCounts('wait')).wait ?? 0) - warmupJobs;
    const again = hooks.slice(0, Math.max(1, Math.floor(hooks.length / 10)));
    const redelivery = await runAll(again);
    return {
      deliveries: options.deliveries,
      concurrency: options.concurrency,
      wallMs: Math.round(main.wallMs),
      perSecond: (options.deliveries * 1000) / main.wallMs,
      latencyMs: summarise(main.latencies.map((ms) => Math.round(ms * 10) / 10)),
      queued,
      redelivered: again.length,
      duplicatesAnswered: redelivery.acks.filter((a) => a === 'duplicate').length,
    };
  } finally {
    await running.bridge.close();
    await new Promise<void>((resolve) => log.end(resolve));
  }
}
