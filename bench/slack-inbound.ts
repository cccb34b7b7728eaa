import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SlackConfig } from '../adapters/slack/slack-config.js';
import type { RouteRequest } from '../src/core/http-route.js';
import { createLogger } from '../src/core/logger.js';
import { createSlackPlatform } from '../adapters/slack/slack-platform.js';
import type { InprocBridge } from './inproc-bridge.js';
import { openHandoffs } from './open-handoffs.js';
import { pool, signedEvents, slackBenchThread, type SignedEvent } from './slack-load.js';

/**
 * Slack figure 1: inbound events per second on one bridge process, through exactly what a
 * delivery costs the bridge — signature check (HMAC and timestamp window), parse, dedupe
 * (event_id and channel:ts), sealing the text and the BullMQ enqueue — with every event a
 * distinct thread reply that is accepted and queued. The bridge runs as HANDOFF_ROLE=server
 * so no worker drains the queue meanwhile. Measured twice: calling the route handler (the
 * pipeline alone) and over HTTP from a separate load process with keep-alive connections (adds
 * Node's HTTP server; the load process competes for the same two cores).
 */
export interface SlackInboundResult {
  readonly events: number;
  readonly concurrency: number;
  /** Events/s through the route handler. */
  readonly handlerPerSecond: number;
  /** Events/s over HTTP, sent by a load process of its own. */
  readonly httpPerSecond: number;
  /** Inbound jobs queued, checked against the events sent (nothing dropped, nothing twice). */
  readonly queued: number;
}

export async function measureSlackInbound(options: {
  bridge: InprocBridge;
  config: SlackConfig;
  events: number;
  concurrency: number;
}): Promise<SlackInboundResult> {
  const { bridge, config } = options;
  if (config.inbound.mode !== 'events') throw new Error('the inbound bench needs SLACK_SIGNING_SECRET');
  const secret = config.inbound.signingSecret;
  // The same module the bridge mounts, handed the bridge's own sink (dedupe, seal, enqueue).
  const platform = createSlackPlatform({
    config,
    sink: bridge.running.bridge.sink,
    now: Date.now,
    logger: createLogger({ level: 'error', sink: () => undefined }),
  });
  const route = platform.routes.find((r) => r.path === '/slack/events')!;
  const request = (s: SignedEvent): RouteRequest => ({
    method: 'POST',
    path: '/slack/events',
    params: {},
    query: new URLSearchParams(),
    headers: s.headers,
    rawBody: s.raw,
    remoteAddress: '127.0.0.1',
    requestId: 'req_bench',
    signal: new AbortController().signal,
  });
  const check = (status: number) => {
    if (status !== 200) throw new Error(`a signed Slack event was answered ${status}`);
  };

  await openHandoffs(bridge.url, bridge.apiToken, [slackBenchThread]);
  const inbound = bridge.running.bridge.queues.inbound;
  const before = await inbound.count();
  const warmup = signedEvents(500, secret, 'warm');
  await pool(warmup, options.concurrency, async (s) => check((await route.handler(request(s))).status));

  const direct = signedEvents(options.events, secret, 'direct');
  const directMs = await pool(direct, options.concurrency, async (s) =>
    check((await route.handler(request(s))).status),
  );

  const http = await httpLoad({
    url: `${bridge.url}/slack/events`,
    secret,
    count: options.events,
    concurrency: options.concurrency,
  });

  const queued = (await inbound.count()) - before;
  const expected = warmup.length + direct.length + options.events;
  if (queued !== expected) throw new Error(`queued ${queued} inbound jobs for ${expected} distinct events`);
  return {
    events: options.events,
    concurrency: options.concurrency,
    handlerPerSecond: (options.events * 1000) / directMs,
    httpPerSecond: (options.events * 1000) / http.ms,
    queued,
  };
}

/** Runs bench/slack-http-load.ts as a child process and returns what it measured. */
function httpLoad(load: { url: string; secret: string; count: number; concurrency: number }): Promise<{ ms: number }> {
  const script = fileURLToPath(new URL('./slack-http-load.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, SLACK_LOAD: JSON.stringify(load) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`the HTTP load process exited with ${code}`));
      const result = JSON.parse(out) as { ms: number; statuses: Record<string, number> };
      if (result.statuses['200'] !== load.count)
        return reject(new Error(`HTTP load answers: ${JSON.stringify(result.statuses)}`));
      resolve(result);
    });
  });
}
