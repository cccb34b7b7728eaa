import type { Redis } from 'ioredis';
import { json, type Route } from '../core/http-route.js';
import type { Queues } from '../queue/queues.js';

/** How long /readyz waits for Redis to answer a PING, ms. */
const readyTimeoutMs = 1_000;

/** Liveness, readiness (Redis answers) and Prometheus-style metrics. */
export function healthRoutes(deps: { redis: Redis; queues: Queues; platforms: readonly string[] }): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: async () => json(200, { ok: true }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async () => {
        // Commands wait while the connection is down, so a ping alone would hang the probe.
        if (deps.redis.status !== 'ready') return json(503, { ok: false, redis: deps.redis.status });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), readyTimeoutMs);
        });
        try {
          const answer = await Promise.race([deps.redis.ping(), late]);
          return answer === 'PONG' ? json(200, { ok: true, redis: 'up' }) : json(503, { ok: false, redis: 'slow' });
        } catch {
          return json(503, { ok: false, redis: 'down' });
        } finally {
          clearTimeout(timer);
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => {
        const lines: string[] = ['# HELP handoff_queue_jobs Jobs per queue and state.', '# TYPE handoff_queue_jobs gauge'];
        const queues = [deps.queues.handoffs, deps.queues.inbound, deps.queues.credentials, ...deps.platforms.map((p) => deps.queues.outbound(p as never))];
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'waiting-children');
          for (const [state, n] of Object.entries(counts)) lines.push(`handoff_queue_jobs{queue="${queue.name}",state="${state}"} ${n}`);
        }
        return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: `${lines.join('\n')}\n` };
      },
    },
  ];
}
