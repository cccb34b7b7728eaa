import type { Redis } from 'ioredis';
import { json, type Route } from '../core/http-route.js';
import type { Queues } from '../queue/queues.js';

/** Liveness, readiness (Redis answers) and Prometheus-style metrics. */
export function healthRoutes(deps: { redis: Redis; queues: Queues; platforms: readonly string[] }): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: async () => json(200, { ok: true }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async () => {
        try {
          await deps.redis.ping();
          return json(200, { ok: true, redis: 'up' });
        } catch {
          return json(503, { ok: false, redis: 'down' });
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
