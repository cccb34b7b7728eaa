import { Agent, request as httpRequest } from 'node:http';
import { slackSignatureHeaders } from '../test/fakes/slack/slack-signing.js';
import { threadReplyEvent } from '../test/fixtures/slack/slack-fixtures.js';

/**
 * Load for the Slack inbound figure: distinct thread replies signed as Slack signs them, and
 * a small promise pool to send them with a fixed number in flight. Shared by the in-process
 * measure and the HTTP load process (bench/slack-http-load.ts).
 */
export interface SignedEvent {
  readonly raw: Buffer;
  readonly headers: Record<string, string>;
}

export type EventBatch = 'warm' | 'direct' | 'http';

/**
 * The thread every bench event replies in (a handoff is opened there first). Fixed, so the
 * HTTP load process signs replies into the same thread as this one.
 */
const benchThreadTs = '1700000000.000100';
export const slackBenchThread = `slack:C0BENCH0001/${benchThreadTs}`;

/** `count` distinct, signed thread replies; each batch gets its own second, so every ts is unique. */
export function signedEvents(count: number, secret: string, batch: EventBatch): SignedEvent[] {
  const now = Math.floor(Date.now() / 1000);
  const second = now - { warm: 300, direct: 200, http: 100 }[batch];
  const out: SignedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const body = threadReplyEvent({
      channel: 'C0BENCH0001',
      threadTs: benchThreadTs,
      user: 'U0ALICE001',
      text: `reply ${i}: here is the code`,
      ts: `${second}.${String(i).padStart(6, '0')}`,
      eventId: `Ev${batch.toUpperCase().slice(0, 2)}${String(i).padStart(8, '0')}`,
    });
    const raw = JSON.stringify(body);
    out.push({
      raw: Buffer.from(raw),
      headers: { 'content-type': 'application/json', ...slackSignatureHeaders(secret, raw) },
    });
  }
  return out;
}

/** Runs `run` over `items` with `concurrency` in flight; resolves with the wall time, ms. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
  return performance.now() - started;
}

/** POSTs signed events over keep-alive connections (node:http: far cheaper per request than fetch). */
export function eventPoster(
  url: string,
  concurrency: number,
): { post(event: SignedEvent): Promise<number>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  return {
    post: (event) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            agent,
            headers: { ...event.headers, 'content-length': String(event.raw.length) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(event.raw);
      }),
    close: () => agent.destroy(),
  };
}
