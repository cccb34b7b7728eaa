import { Queue } from 'bullmq';
import type { Redis } from '../store/redis.js';
import type { Platform } from '../core/thread-ref.js';
import type { OutboundAction } from '../engine/ports.js';
import { queueKeyPrefix, queueNames } from './queue-names.js';

export interface DriverJobData {
  readonly handoffId: string;
}

/** An inbound reply as queued: the text sealed with the vault key (it may hold a code). */
export interface InboundJobData {
  readonly platform: Platform;
  readonly thread: string;
  /** The handoff the platform says the reply answers (InboundReply.handoffId). */
  readonly handoffId?: string;
  /** Answers about it go to its author alone (InboundReply.answerPrivately). */
  readonly answerPrivately?: boolean;
  /** The link version a request for a fresh link was made from (InboundReply.linkVersion). */
  readonly linkVersion?: number;
  readonly author: { readonly id: string; readonly name?: string; readonly email?: string };
  readonly sealedText: string;
  readonly messageRef: { readonly platform: Platform; readonly thread: string; readonly id: string };
  readonly deliveryId: string;
  readonly receivedAt: number;
}

/**
 * Several actions of one moment (an ending's notice, reaction and redaction) as one job, on a
 * platform that sets no outbound pace: run in order, each retry-safe on its own; a failed run
 * records how many went through (`done`), so its retry starts at the one that failed.
 */
export interface OutboundBatch {
  readonly kind: 'batch';
  readonly handoffId: string;
  readonly actions: readonly OutboundAction[];
  readonly done?: number;
}

export type OutboundJobData = OutboundAction | OutboundBatch;

export interface CredentialJobData {
  readonly credentialId: string;
  /**
   * `refresh` jobs: the expiry this job refreshes (a job for an older expiry does nothing).
   * `retire` jobs (queued by older bridges; the sweep has replaced them): the time the check
   * was scheduled for. `sweep` jobs carry no data.
   */
  readonly generation: number;
}

export interface Queues {
  readonly handoffs: Queue<DriverJobData, unknown>;
  readonly inbound: Queue<InboundJobData>;
  readonly credentials: Queue<CredentialJobData>;
  outbound(platform: Platform): Queue<OutboundJobData>;
  readonly prefix: string;
  close(): Promise<void>;
}

/**
 * BullMQ's per-queue stream of job events (10,000 by default) is kept for QueueEvents
 * listeners; nothing of the bridge's reads it (agents learn of endings from their feed), so it
 * is kept as short as Redis trims it (`MAXLEN ~`: about one stream node, ≤ ~100 entries).
 */
export const queueEventsMaxLen = 10;

/** Options every bridge queue shares. */
export function queueOptions(connection: Redis, prefix: string, queue: string) {
  return { connection, prefix: queueKeyPrefix(prefix, queue), streams: { events: { maxLen: queueEventsMaxLen } } };
}

export function createQueues(connection: Redis, prefix: string, platforms: readonly Platform[]): Queues {
  const queue = <T, R = unknown>(name: string) => new Queue<T, R>(name, queueOptions(connection, prefix, name));
  const handoffs = queue<DriverJobData>(queueNames.handoffs);
  const inbound = queue<InboundJobData>(queueNames.inbound);
  const credentials = queue<CredentialJobData>(queueNames.credentials);
  const outbound = new Map(platforms.map((p) => [p, queue<OutboundJobData>(queueNames.outbound(p))]));
  return {
    handoffs,
    inbound,
    credentials,
    prefix,
    outbound(platform) {
      const queue = outbound.get(platform);
      if (!queue) throw new Error(`no outbound queue for ${platform}`);
      return queue;
    },
    async close() {
      const all = [handoffs, inbound, credentials, ...outbound.values()];
      // A queue closed while BullMQ still checks the server (right after start-up) would
      // reject that check with nobody listening: let it finish first.
      await Promise.all(all.map((q) => q.waitUntilReady().catch(() => undefined)));
      await Promise.all(all.map((q) => q.close()));
    },
  };
}
