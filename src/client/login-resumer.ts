import { Job, Queue } from 'bullmq';
import type { Cluster, Redis as OneRedis } from 'ioredis';

/** The agent's Redis: one server or a cluster. */
type Redis = OneRedis | Cluster;
import { isTerminal } from '../core/handoff.js';
import type { FeedEventView } from '../core/wire.js';
import { BridgeApiError, type BridgeClient } from './bridge-client.js';

/**
 * The agent side of "resume without sharing Redis". It runs in the agent's worker process,
 * next to its BullMQ workers, and needs only the bridge's URL and the agent's key:
 *
 *   const resumer = createLoginResumer({ client, connection: agentRedis });
 *   resumer.start();
 *   new Worker(queue, (job, token) => requireLogin(job, token, request, { client, resumer }), …);
 *
 * `requireLogin()` parks its job as a *delayed* job in the agent's own queue until the
 * handoff's expiry (the backstop) and records here, in the agent's own Redis, which job waits
 * for which handoff. The resumer follows the agent's feed of handoff endings on the bridge
 * (`GET /v1/events`, a long poll) and promotes the waiting job when its handoff ends.
 *
 * Durable: the feed position (cursor) is kept in the agent's Redis after each page, so a
 * worker that was down when a handoff ended replays what it missed when it starts again; a job
 * whose ending was never seen still runs at its expiry. Several workers may each run a
 * resumer: promoting a job twice is harmless (the second finds it no longer delayed), and
 * BullMQ runs a job in one worker at a time.
 */

/** Where a parked job lives in the agent's Redis. */
export interface WaitingJob {
  /** The queue's BullMQ prefix (default `bull`). */
  readonly prefix: string;
  /** The queue's name. */
  readonly queue: string;
  /** The job's id. */
  readonly id: string;
}

/** What requireLogin() needs from the resumer: the record of who waits for what. */
export interface LoginWaits {
  /**
   * Records that `job` is parked until `handoffId` ends (kept until `untilMs`, plus a day).
   * Several jobs may wait for one handoff (runs of a scheduled job that joined one login).
   */
  watch(handoffId: string, job: WaitingJob, untilMs: number): Promise<void>;
  /** Drops the record of `job` (it saw the ending), or of every job waiting for `handoffId`; and the ending kept here. */
  forget(handoffId: string, job?: WaitingJob): Promise<void>;
  /**
   * The login ending this process read from the feed for `handoffId` when a job waited for it
   * and it carries a credential (in memory, the last `keptEndings`; dropped by `forget`): the
   * job's run needs no request to the bridge.
   */
  ending?(handoffId: string): FeedEventView | undefined;
}

/** Endings with a credential a resumer keeps for the jobs it wakes (the oldest go first). */
export const keptEndings = 10_000;

export interface LoginResumer extends LoginWaits {
  /** Starts following the feed (until `close()`). */
  start(): void;
  /** Promotes the job parked on `handoffId`, if any; true when this call promoted it. */
  resume(handoffId: string): Promise<boolean>;
  /** Stops following (aborting the long poll in flight) and closes the queues it opened. */
  close(): Promise<void>;
}

export interface LoginResumerOptions {
  /** The bridge, reached over HTTP with the agent's key (or the operator token and `agent`). */
  readonly client: BridgeClient;
  /** The agent's own Redis, where its queues live (never the bridge's). */
  readonly connection: Redis;
  /** Prefix of the resumer's keys in that Redis; one per agent. Default `handoff-resumer`. */
  readonly keyPrefix?: string;
  /** Whose feed, when the client holds the admin token; with an agent key leave it out. */
  readonly agent?: string;
  /** How long each long poll waits, ms. Default 25,000. */
  readonly waitMs?: number;
  /** Told of each event read: when its page arrived (epoch ms) and whether this resumer promoted its job (for metrics and tests). */
  readonly onEvent?: (
    event: FeedEventView,
    outcome: { readonly receivedAt: number; readonly promoted: boolean },
  ) => void;
  /** Told of errors it recovers from by trying again (unreachable bridge, Redis hiccups). */
  readonly onError?: (err: unknown) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export function createLoginResumer(options: LoginResumerOptions): LoginResumer {
  const redis = options.connection;
  const keyPrefix = options.keyPrefix ?? 'handoff-resumer';
  // A hash per handoff (job → where it lives); `waits:`, since older versions kept one string at `wait:`.
  const waitKey = (handoffId: string) => `${keyPrefix}:waits:${handoffId}`;
  const legacyWaitKey = (handoffId: string) => `${keyPrefix}:wait:${handoffId}`;
  const jobField = (job: WaitingJob) => `${job.prefix}\n${job.queue}\n${job.id}`;
  const cursorKey = `${keyPrefix}:cursor`;
  const queues = new Map<string, Queue>();
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  /** Completed logins read from the feed that a job here waited for, oldest first (a Map keeps insertion order). */
  const endings = new Map<string, FeedEventView>();
  const keep = (event: FeedEventView) => {
    if (event.status !== 'completed' || !event.credential) return;
    endings.delete(event.handoffId);
    endings.set(event.handoffId, event);
    if (endings.size > keptEndings) endings.delete(endings.keys().next().value!);
  };

  const queueOf = (job: WaitingJob) => {
    const name = `${job.prefix}\n${job.queue}`;
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = new Queue(job.queue, { connection: redis, prefix: job.prefix })));
    return queue;
  };

  /**
   * Promotes each job waiting for the handoff; true when this call promoted one. With the
   * feed's `event`, keeps it for the job's run (`ending`) when a job here waits for it.
   */
  async function resume(handoffId: string, event?: FeedEventView): Promise<boolean> {
    const [waiting, legacy] = await Promise.all([
      redis.hgetall(waitKey(handoffId)),
      redis.get(legacyWaitKey(handoffId)),
    ]);
    // Kept before the job is promoted, so its run finds it.
    if (event && (legacy || Object.keys(waiting).length > 0)) keep(event);
    const entries = Object.entries(waiting).map(([field, raw]) => ({
      raw,
      drop: () => redis.hdel(waitKey(handoffId), field),
    }));
    // A job parked by an older version (one string per handoff) is woken the same way.
    if (legacy) entries.push({ raw: legacy, drop: () => redis.del(legacyWaitKey(handoffId)) });
    let any = false;
    for (const { raw, drop } of entries) {
      const spec = JSON.parse(raw) as WaitingJob;
      const queue = queueOf(spec);
      let promoted = false;
      try {
        // By id, unread: BullMQ's promote script moves the job only if it is delayed.
        await new Job(queue, 'resume', {}, {}, spec.id).promote();
        promoted = true;
      } catch {
        // Not delayed: already promoted by another resumer, or not parked yet — requireLogin
        // reads the handoff right after parking and promotes its own job if it ended — or gone.
      }
      // The record goes once its job is promoted, or is no more (done, removed).
      if (promoted || !(await queue.getJob(spec.id))) await drop();
      any ||= promoted;
    }
    return any;
  }

  /** The wait records, a page at a time: SCAN is per node, so on a cluster every master's. */
  async function* waitKeys(): AsyncGenerator<string[]> {
    const nodes = 'isCluster' in redis && redis.isCluster ? (redis as Cluster).nodes('master') : [redis as OneRedis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${keyPrefix}:waits:*`, 'COUNT', 200);
        cursor = next;
        yield keys;
      } while (cursor !== '0' && !stop.signal.aborted);
    }
  }

  /** After a gap in the feed: ask the bridge about every handoff a job here waits for. */
  async function reconcile(): Promise<void> {
    for await (const keys of waitKeys()) {
      for (const key of keys) {
        const handoffId = key.slice(`${keyPrefix}:waits:`.length);
        const ended = await options.client.getHandoff(handoffId).then(
          (view) => isTerminal(view.status),
          (err: unknown) => err instanceof BridgeApiError && err.status === 404,
        );
        if (ended) await resume(handoffId);
      }
      if (stop.signal.aborted) return;
    }
  }

  async function follow(): Promise<void> {
    let cursor = (await redis.get(cursorKey).catch(() => null)) ?? undefined;
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        const page = await options.client.events({
          ...(cursor ? { after: cursor } : {}),
          ...(options.agent ? { agent: options.agent } : {}),
          waitMs: options.waitMs ?? 25_000,
          signal: stop.signal,
        });
        const receivedAt = Date.now();
        failures = 0;
        if (page.gap) await reconcile();
        // Side by side: a burst of endings should not wait on each other's round trips.
        await Promise.all(
          page.events.map(async (event) => {
            const promoted = await resume(event.handoffId, event);
            options.onEvent?.(event, { receivedAt, promoted });
          }),
        );
        // Stored after the jobs are promoted: a crash in between replays the page (harmless).
        // Workers sharing this key may write it out of order; the worst case is a replay.
        if (page.cursor !== cursor) await redis.set(cursorKey, page.cursor);
        cursor = page.cursor;
      } catch (err) {
        if (stop.signal.aborted) break;
        if (err instanceof BridgeApiError && err.code === 'invalid_cursor') {
          // Issued under another vault key, or not ours: start over from the oldest entry kept.
          cursor = undefined;
          await redis.del(cursorKey).catch(() => undefined);
          continue;
        }
        options.onError?.(err);
        failures += 1;
        await sleep(Math.min(30_000, 250 * 2 ** failures), stop.signal);
      }
    }
  }

  return {
    async watch(handoffId, job, untilMs) {
      const ttlMs = Math.max(1_000, untilMs - Date.now() + 24 * 3_600_000);
      const spec = JSON.stringify({ prefix: job.prefix, queue: job.queue, id: job.id } satisfies WaitingJob);
      // The longest wait of the jobs here keeps the record (GT: a shorter one never cuts it).
      await redis
        .multi()
        .hset(waitKey(handoffId), jobField(job), spec)
        .pexpire(waitKey(handoffId), ttlMs, 'GT')
        .pexpire(waitKey(handoffId), ttlMs, 'NX')
        .exec();
    },
    async forget(handoffId, job) {
      endings.delete(handoffId);
      if (job) await redis.hdel(waitKey(handoffId), jobField(job));
      else await redis.del(waitKey(handoffId));
    },
    ending: (handoffId) => endings.get(handoffId),
    resume,
    start() {
      running ??= follow();
    },
    async close() {
      stop.abort();
      await running;
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}
