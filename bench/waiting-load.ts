import type { Redis } from '../src/store/redis.js';
import type { BridgeClient } from '../src/client/bridge-client.js';
import type { HandoffRequestInput } from '../src/core/wire.js';
import { createKeys } from '../src/store/keys.js';
import { queueKey } from '../src/queue/queue-names.js';

/**
 * Puts `count` handoffs into `awaiting_human` through the HTTP API (as `handoff login` or
 * any agent would, each in its own local thread), then waits until every driver job is
 * parked as a delayed job and every approval message has been posted.
 */
export interface WaitingLoad {
  readonly ids: string[];
  /** How many ended up awaiting a human (the rest ended: their codes in `ended`). */
  readonly waiting: number;
  /** Handoffs that ended instead of waiting (a start that timed out…), by status and error code. */
  readonly ended: Record<string, number>;
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
  const keys = createKeys(prefix);
  const q = (queue: string, part: string) => queueKey(keys.queuePrefix, queue, part);
  const records = async () => {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.get(keys.handoff(id));
    return ((await pipeline.exec()) ?? []).map(([, raw]) =>
      typeof raw === 'string' ? (JSON.parse(raw) as { status: string; error?: { code?: string } }) : undefined,
    );
  };
  const settledStatuses = ['awaiting_human', 'failed', 'expired', 'cancelled', 'completed'];
  // Given up only when nothing moves for this long (a count of 100,000 takes minutes in all).
  const stallMs = 120_000;
  let lastChange = Date.now();
  let lastSeen = '';
  let waiting: number;
  const ended: Record<string, number> = {};
  for (;;) {
    const [delayed, driverWait, driverActive, outWait, outActive, outDelayed] = await Promise.all([
      redis.zcard(q('handoffs', 'delayed')),
      redis.llen(q('handoffs', 'wait')),
      redis.llen(q('handoffs', 'active')),
      redis.llen(q('outbound-local', 'wait')),
      redis.llen(q('outbound-local', 'active')),
      redis.zcard(q('outbound-local', 'delayed')),
    ]);
    if (driverWait + driverActive + outWait + outActive + outDelayed === 0) {
      // Every start done (a start waiting its turn is parked too, still pending), every post made.
      const now = await records();
      if (now.every((r) => r && settledStatuses.includes(r.status))) {
        waiting = now.filter((r) => r!.status === 'awaiting_human').length;
        if (delayed >= waiting + (options.already ?? 0)) {
          for (const r of now)
            if (r!.status !== 'awaiting_human') {
              const key = `${r!.status}${r!.error?.code ? ` (${r!.error.code})` : ''}`;
              ended[key] = (ended[key] ?? 0) + 1;
            }
          break;
        }
      }
      await sleep(900);
    }
    const seen = [delayed, driverWait, driverActive, outWait, outActive, outDelayed].join();
    if (seen !== lastSeen) [lastSeen, lastChange] = [seen, Date.now()];
    if (Date.now() - lastChange > stallMs) {
      // Counted here too, so a run that falls short still says how fast it went.
      const now = (await records()).filter((r) => r?.status === 'awaiting_human').length;
      const s = (Date.now() - started) / 1000;
      throw new Error(
        `only ${now} of ${count} handoffs awaiting a human (${delayed} driver jobs parked) after ${Math.round(s)} s, nothing moving for ${stallMs / 1000} s: ${Math.round(now / s)}/s`,
      );
    }
    await sleep(100);
  }
  const ms = Date.now() - started;
  return { ids, ms, waiting, ended };
}
