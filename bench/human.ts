import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { BridgeClient } from '../src/client/bridge-client.js';
import type { BenchAgent } from './bench-agent.js';
import { approveLogin } from './sandbox-server.js';

/**
 * The two sides of a handoff as the bench plays them: an agent task that blocks in
 * requireLogin(), and a human who approves on the service's page and pastes the finish code
 * into the thread. `prepare` gets handoffs to the moment just before the paste.
 */
export interface ReadyHandoff {
  readonly tag: string;
  readonly threadName: string;
  /** The thread ref the handoff lives in. */
  readonly thread: string;
  readonly handoffId: string;
  readonly code: string;
}

export interface Players {
  readonly agent: BenchAgent;
  readonly client: BridgeClient;
  readonly bridgeUrl: string;
  readonly serviceUrl: string;
  /** The thread for a task's tag; default the local thread `local:th-<tag>`. */
  readonly threadFor?: (tag: string) => string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * A read retried when the connection broke (a kept-alive socket the loaded bridge closed as
 * it was reused: `bridge_unreachable`); a read changes nothing, so asking again is safe.
 */
async function retried<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if ((err as { code?: string }).code !== 'bridge_unreachable' || attempt >= 5) throw err;
      await sleep(100 * attempt);
    }
  }
}

/** One agent task parked in requireLogin(), its login's link posted and nobody at the service yet. */
export interface WaitingLogin {
  readonly tag: string;
  readonly threadName: string;
  readonly thread: string;
  readonly handoffId: string;
  readonly approvalUrl: string;
}

/** Queues an agent task that needs a login and waits until it is parked with the link posted. */
export async function openLogin(players: Players, label: string, approvers: readonly string[]): Promise<WaitingLogin> {
  const tag = `${label}-${randomBytes(5).toString('hex')}`;
  const threadName = `th-${tag}`;
  const thread = players.threadFor?.(tag) ?? `local:${threadName}`;
  const job = await players.agent.queue.add(
    'task',
    { tag, service: players.serviceUrl, thread, approvers },
    { jobId: tag, removeOnComplete: true, removeOnFail: true },
  );
  const handoffId = await until(`handoff of ${tag}`, async () => {
    const fresh = await players.agent.queue.getJob(job.id!);
    return (fresh?.data as { __handoffLogins?: { login?: string } } | undefined)?.__handoffLogins?.login;
  });
  let view = await retried(() => players.client.getHandoff(handoffId));
  while (view.status === 'pending')
    view = await retried(() => players.client.getHandoff(handoffId, { waitMs: 10_000, ifStatus: 'pending' }));
  if (view.status !== 'awaiting_human' || !view.approvalUrl)
    throw new Error(`handoff ${handoffId} is ${view.status}, not awaiting_human`);
  await until(`agent task ${tag} parked`, async () => ((await job.getState()) === 'delayed' ? true : undefined));
  return { tag, threadName, thread, handoffId, approvalUrl: view.approvalUrl };
}

/** One agent task, parked as a delayed job, whose login the human has approved. */
async function prepareOne(players: Players, label: string): Promise<ReadyHandoff> {
  const waiting = await openLogin(players, label, ['alice']);
  const code = await approveLogin(waiting.approvalUrl);
  return {
    tag: waiting.tag,
    threadName: waiting.threadName,
    thread: waiting.thread,
    handoffId: waiting.handoffId,
    code,
  };
}

/** `count` ready handoffs, prepared `parallel` at a time. */
export async function prepare(players: Players, count: number, label: string, parallel = 25): Promise<ReadyHandoff[]> {
  const out: ReadyHandoff[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next += 1;
      out.push(await prepareOne(players, label));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return out;
}

/**
 * The human's paste: POST the reply; resolves with the moment the bridge answered 201. Through
 * undici's `request` (kept-alive connections), not `fetch`, whose per-call web-stream and
 * Request/Response objects are CPU the load process would spend on the bench's 2 cores.
 */
export async function reply(players: Players, ready: ReadyHandoff): Promise<number> {
  const res = await request(`${players.bridgeUrl}/v1/threads/local/${encodeURIComponent(ready.threadName)}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ author: 'alice', text: `Here is the finish code: \`${ready.code}\`` }),
  });
  const at = Date.now();
  const body = (await res.body.json()) as { ack?: string };
  if (res.statusCode !== 201 || body.ack !== 'accepted')
    throw new Error(`reply for ${ready.tag} answered ${res.statusCode} ${JSON.stringify(body)}`);
  return at;
}
