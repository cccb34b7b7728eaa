import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { sign } from '@octokit/webhooks-methods';
import { loadHandoffConfig as loadConfig } from '../src/main.js';
import { createLogger } from '../src/core/logger.js';
import { startHandoff } from '../src/main.js';
import { startFakeGithub } from '../test/fakes/github/fake-github-server.js';
import { exampleRepo, issueCommentPayload } from '../test/fixtures/github/issue-comment.js';
import { openHandoffs } from './open-handoffs.js';
import { bridgeEnv } from './inproc-bridge.js';
import { summarise, type Summary } from './stats.js';

/**
 * GitHub webhook intake: signed `issue_comment.created` deliveries (the webhooks-examples
 * payload, each with its own comment id and delivery id) POSTed to /github/webhooks of a
 * bridge that runs the HTTP server only (HANDOFF_ROLE=server), so the figure is the route's
 * own work: verify the signature, parse, deduplicate in Redis, seal the text, enqueue.
 * Payloads are signed before the clock starts (signing is GitHub's work).
 */
export interface WebhookResult {
  readonly deliveries: number;
  readonly concurrency: number;
  readonly perSecond: number;
  /** Per delivery, request sent → 202 received, ms. */
  readonly latencyMs: Summary;
  readonly accepted: number;
}

export async function measureGithubWebhooks(options: {
  prefix: string;
  redisUrl: string;
  logFile: string;
  deliveries: number;
  concurrency: number;
}): Promise<WebhookResult> {
  const fake = await startFakeGithub();
  const secret = `bench-${randomBytes(16).toString('hex')}`;
  const apiToken = `bench-${randomBytes(16).toString('hex')}`;
  const vaultKey = randomBytes(32);
  const env = {
    ...bridgeEnv({ prefix: options.prefix, redisUrl: options.redisUrl, apiToken, vaultKey }),
    HANDOFF_ROLE: 'server',
    GITHUB_TOKEN: fake.auth.addToken('handoff-bench'),
    GITHUB_API_URL: fake.url,
    GITHUB_WEBHOOK_SECRET: secret,
    GITHUB_POLLING: 'false',
  };
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const logger = createLogger({ level: 'info', format: 'json', sink: (line) => log.write(`${line}\n`) });
  const running = await startHandoff(loadConfig(env), { redisUrl: options.redisUrl, vaultKey, apiToken, logger });
  const url = `${running.bridge.url!}/github/webhooks`;
  try {
    await openHandoffs(
      running.bridge.url!,
      apiToken,
      Array.from({ length: 50 }, (_, i) => `github:${exampleRepo}#${i + 1}`),
    );
    const prepared = await Promise.all(
      Array.from({ length: options.deliveries }, async (_, i) => {
        const body = JSON.stringify(
          issueCommentPayload({
            commentId: 10_000_000 + i,
            issueNumber: 1 + (i % 50),
            body: `bench comment ${i}`,
            login: 'Codertocat',
          }),
        );
        return { body, signature: await sign(secret, body), deliveryId: randomUUID() };
      }),
    );
    const send = async (d: (typeof prepared)[number]) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issue_comment',
          'x-github-delivery': d.deliveryId,
          'x-hub-signature-256': d.signature,
        },
        body: d.body,
      });
      const answer = (await res.json()) as { ack?: string };
      if (res.status !== 202) throw new Error(`delivery answered ${res.status}`);
      return answer.ack === 'accepted';
    };
    // Warm up connections and code paths.
    for (const d of prepared.slice(0, 20)) await send(d);
    const timed = prepared.slice(20);
    const latencies: number[] = [];
    let next = 0;
    let accepted = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < timed.length) {
          const d = timed[next++]!;
          const t0 = performance.now();
          if (await send(d)) accepted += 1;
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const wallMs = performance.now() - started;
    return {
      deliveries: timed.length,
      concurrency: options.concurrency,
      perSecond: (timed.length * 1000) / wallMs,
      latencyMs: summarise(latencies.map((ms) => Math.round(ms * 10) / 10)),
      accepted,
    };
  } finally {
    await running.bridge.close();
    await fake.close();
    await new Promise<void>((resolve) => log.end(resolve));
  }
}
