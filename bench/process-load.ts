/**
 * The load of the `processes` part, as a process of its own so no bridge shares its event loop:
 * `node --import tsx bench/process-load.ts` with PROC_LOAD = {"bridgeUrls", "apiToken",
 * "serviceUrl", "agentRedisUrl", "count", "batch"} and an IPC channel. It plays both sides:
 * the agent (a BullMQ worker on its own Redis whose jobs block in requireLogin(), and its
 * resumer) and the humans (approve on the service's page, paste the code into the thread).
 * Batch by batch it prepares handoffs through both servers, then sends every reply of the
 * batch at once, alternating servers, and times until the last agent job resumed. It sends
 * `{kind: 'replying', batch}` before each batch's replies (the parent may kill a worker then)
 * `{kind: 'batched', batch}` once they all resumed, and `{kind: 'result', …}` at the end.
 */
import { Redis } from 'ioredis';
import { createBridgeClient } from '../src/client/bridge-client.js';
import { startBenchAgent } from './bench-agent.js';
import { cpuWindow } from './cpu-window.js';
import { prepare, reply, type Players } from './human.js';

export interface LoadBatch {
  readonly size: number;
  /** First reply sent → last agent job resumed, ms. */
  readonly wallMs: number;
  readonly resumed: number;
}

export interface LoadResult {
  readonly kind: 'result';
  readonly batches: LoadBatch[];
  readonly handoffIds: string[];
  /** Tasks whose job got past requireLogin() more than once. */
  readonly resumedTwice: number;
  /** Tasks that never got past it, by the error their job failed with. */
  readonly notResumed: Record<string, number>;
  /** Handoffs whose ending the agent's resumer read more than once / never. */
  readonly eventsTwice: number;
  readonly eventsMissing: number;
}

const config = JSON.parse(process.env.PROC_LOAD ?? '{}') as {
  bridgeUrls: string[];
  apiToken: string;
  serviceUrl: string;
  agentRedisUrl: string;
  count: number;
  batch: number;
};
const connection = new Redis(config.agentRedisUrl, { maxRetriesPerRequest: null });
const clients = config.bridgeUrls.map((baseUrl) => createBridgeClient({ baseUrl, apiToken: config.apiToken }));
const agent = startBenchAgent({
  connection,
  prefix: 'agent',
  client: clients[0]!,
  concurrency: 200,
  // A whole batch answered at once on a loaded machine can take longer than the default.
  resumeTimeoutMs: 180_000,
});
const players: Players[] = config.bridgeUrls.map((bridgeUrl, i) => ({
  agent,
  client: clients[i]!,
  bridgeUrl,
  serviceUrl: config.serviceUrl,
}));
// With BENCH_CPU_PROF_WINDOW, a CPU profile of each batch's replies, as the bridge's processes take.
const profileDir = process.env.BENCH_CPU_PROF_WINDOW;
const cpu = profileDir ? cpuWindow(profileDir, 'load') : undefined;
const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

const batches: LoadBatch[] = [];
const handoffIds: string[] = [];
const tags: string[] = [];
const failures: Record<string, number> = {};
for (let done = 0, index = 0; done < config.count; index++) {
  const size = Math.min(config.batch, config.count - done);
  // Half the batch is asked for through each server.
  const shares = players.map((_, i) => Math.floor(size / players.length) + (i < size % players.length ? 1 : 0));
  const ready = (
    await Promise.all(players.map((p, i) => prepare(p, shares[i]!, `procs${index}s${i}`, 50 / players.length)))
  ).flat();
  await send({ kind: 'replying', batch: index });
  await cpu?.start();
  const startedAt = Date.now();
  const resumes = Promise.allSettled(ready.map((h) => agent.resumed(h.tag)));
  await Promise.all(ready.map((h, i) => reply(players[(i + 1) % players.length]!, h)));
  const settled = await resumes;
  const at = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  settled.forEach((s) => {
    if (s.status === 'rejected') {
      // A failed login (LoginFailedError, code login_failed) names the handoff's own error in `reason`.
      const reason = s.reason as { code?: string; reason?: string; message?: string };
      const key =
        reason.reason ?? reason.code ?? (/did not resume/.test(reason.message ?? '') ? 'no resume in time' : 'unknown');
      failures[key] = (failures[key] ?? 0) + 1;
    }
  });
  await cpu?.stop();
  await send({ kind: 'batched', batch: index });
  batches.push({ size, wallMs: at.length ? Math.max(...at) - startedAt : 0, resumed: at.length });
  ready.forEach((h) => {
    handoffIds.push(h.handoffId);
    tags.push(h.tag);
  });
  done += size;
  process.stderr.write(`[load] batch ${index}: ${at.length}/${size} resumed\n`);
}
// The resumer may still be reading the last page.
await new Promise((resolve) => setTimeout(resolve, 1_000));
const result: LoadResult = {
  kind: 'result',
  batches,
  handoffIds,
  resumedTwice: tags.filter((t) => (agent.resumeCounts.get(t) ?? 0) > 1).length,
  notResumed: failures,
  eventsTwice: handoffIds.filter((id) => (agent.eventCounts.get(id) ?? 0) > 1).length,
  eventsMissing: handoffIds.filter((id) => !agent.eventCounts.has(id)).length,
};
await send(result);
await agent.close();
connection.disconnect();
process.exit(0);
