import { timingSafeEqual } from 'node:crypto';
import type { Redis } from '../store/redis.js';
import { ForbiddenError, UnauthorizedError } from '../core/errors.js';
import { json, type Route, type RouteRequest } from '../core/http-route.js';
import type { QueueMetrics } from '../queue/queue-metrics.js';

/** How long /readyz waits for Redis to answer a PING, ms. */
const readyTimeoutMs = 1_000;

/** Who may read /metrics. */
export interface MetricsAccess {
  /** HANDOFF_METRICS_TOKEN: required as a bearer token when set. */
  readonly token: string | undefined;
  /** In production, /metrics without a token configured is refused. */
  readonly production: boolean;
}

/**
 * Queue depths name the bridge's platforms and show its traffic: in production they are read
 * with HANDOFF_METRICS_TOKEN only (Prometheus: `authorization: { credentials: … }`), never with
 * the API token, which would let the scraper create handoffs.
 */
function checkMetricsAccess(req: RouteRequest, access: MetricsAccess): void {
  if (access.token === undefined) {
    if (!access.production) return;
    throw new ForbiddenError(
      '/metrics needs a token in production: set HANDOFF_METRICS_TOKEN on the bridge and send it as "Authorization: Bearer <token>".',
      'metrics_token_required',
    );
  }
  const presented = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(access.token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new UnauthorizedError('Send the metrics token as "Authorization: Bearer <HANDOFF_METRICS_TOKEN>".');
  }
}

/** Liveness, readiness (Redis answers) and Prometheus-style metrics. */
export function healthRoutes(deps: {
  redis: Redis;
  /** Queue depths (the queue layer's port; no BullMQ objects here). */
  queues: QueueMetrics;
  metrics: MetricsAccess;
}): Route[] {
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
      handler: async (req) => {
        checkMetricsAccess(req, deps.metrics);
        const lines: string[] = [
          '# HELP handoff_queue_jobs Jobs per queue and state.',
          '# TYPE handoff_queue_jobs gauge',
        ];
        for (const d of await deps.queues.depths())
          lines.push(`handoff_queue_jobs{queue="${d.queue}",state="${d.state}"} ${d.jobs}`);
        return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: `${lines.join('\n')}\n` };
      },
    },
  ];
}
