import type { Redis } from 'ioredis';
import type { BridgeClient } from '../src/client/bridge-client.js';
import type { HandoffRequestInput } from '../src/core/wire.js';

/**
 * Puts `count` handoffs into `awaiting_human` through the HTTP API (as `handoff login` or
 * any agent would, each in its own local thread), then waits until every driver job is
 * parked as a delayed job and every approval message has been posted.
 */
export interface WaitingLoad {
  readonly ids: string[];
  /** From the first POST until all were parked and posted, ms. */
  readonly ms: number;
}

/** How long the parked handoffs wait (3 h): every timer of theirs falls after the measurement. */
export const waitingExpiresInMs = 3 * 3_600_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function inParallel(count: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
}

export async function createWaiting(options: {
  client: BridgeClient;
  redis: Redis;
  prefix: string;
  serviceUrl: string;
  count: number;
  label: string;
  /** Requests in flight at once (48). */
  parallel?: number;
  /** Agents the handoffs are spread over, round robin (1: all `bench-agent`). */
  agents?: number;
  /** Handoffs of this prefix already parked (the target count of delayed jobs is on top). */
  already?: number;
  /** More request fields for every handoff (reminders, escalation…). */
  extra?: Partial<HandoffRequestInput>;
}): Promise<WaitingLoad> {
  const { client, redis, prefix, count } = options;
  const started = Date.now();
  const ids: string[] = new Array<string>(count);
  const agents = options.agents ?? 1;
  await inParallel(count, options.parallel ?? 48, async (i) => {
    const created = await client.createHandoff({
      service: options.serviceUrl,
      thread: `local:${options.label}-${i}`,
      approvers: ['alice'],
      agent: { id: agents > 1 ? `bench-agent-${i % agents}` : 'bench-agent', correlationId: `${options.label}-${i}` },
      idempotencyKey: `${options.label}-${i}`,
      // Longer than parking 100,000 takes at ~60/s: none expires, warns or reminds meanwhile.
      expiresInMs: waitingExpiresInMs,
      ...options.extra,
    });
    ids[i] = created.id;
  });

  // Every handoff awaiting a human (a start may wait its turn at the service, parked as a
  // delayed job too), every driver job parked, every approval message posted.
  const q = `${prefix}:q`;
  const statuses = async () => {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.get(`${prefix}:hf:${id}`);
    return ((await pipeline.exec()) ?? []).map(([, raw]) =>
      typeof raw === 'string' ? (JSON.parse(raw) as { status: string }).status : undefined,
    );
  };
  // Given up only when nothing moves for this long (a count of 100,000 takes minutes in all).
  const stallMs = 120_000;
  let lastChange = Date.now();
  let lastSeen = '';
  for (;;) {
    const [delayed, driverWait, driverActive, outWait, outActive, outDelayed] = await Promise.all([
      redis.zcard(`${q}:handoffs:delayed`),
      redis.llen(`${q}:handoffs:wait`),
      redis.llen(`${q}:handoffs:active`),
      redis.llen(`${q}:outbound-local:wait`),
      redis.llen(`${q}:outbound-local:active`),
      redis.zcard(`${q}:outbound-local:delayed`),
    ]);
    const parked = delayed >= count + (options.already ?? 0) && driverWait + driverActive === 0;
    if (parked && outWait + outActive + outDelayed === 0) {
      if ((await statuses()).filter((s) => s === 'awaiting_human').length === count) break;
    }
    const seen = [delayed, driverWait, driverActive, outWait, outActive, outDelayed].join();
    if (seen !== lastSeen) [lastSeen, lastChange] = [seen, Date.now()];
    if (Date.now() - lastChange > stallMs) {
      // Counted here too, so a run that falls short still says how fast it went.
      const waiting = (await statuses()).filter((s) => s === 'awaiting_human').length;
      const s = (Date.now() - started) / 1000;
      throw new Error(
        `only ${waiting} of ${count} handoffs awaiting a human (${delayed} driver jobs parked) after ${Math.round(s)} s, nothing moving for ${stallMs / 1000} s: ${Math.round(waiting / s)}/s`,
      );
    }
    await sleep(100);
  }
  const ms = Date.now() - started;
  return { ids, ms };
}
