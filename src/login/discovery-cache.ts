import { z } from 'zod';
import type { DiscoveredService } from './discovered-service.js';

/**
 * Discovery's results reused per service URL for a short time (docs/protocols.md, "Discovery"),
 * so a burst of logins at one service asks it once. A cached value is used only when it still
 * has the shape of a result; anything else is discovered afresh.
 */
export interface DiscoveryCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
}

const cachedShape = z.looseObject({ service: z.string(), findings: z.array(z.string()) });

/** Reads `service`'s result from `cache`, or runs `fresh` and keeps what it returns for `ttlMs` (0 = never cached). */
export function cachedDiscovery(cache: DiscoveryCache | undefined, ttlMs: number) {
  return async (service: string, fresh: () => Promise<DiscoveredService>): Promise<DiscoveredService> => {
    const cached = cache && ttlMs > 0 ? await cache.get(service) : undefined;
    if (cachedShape.safeParse(cached).success) return cached as DiscoveredService;
    const result = await fresh();
    if (cache && ttlMs > 0) await cache.set(service, result, ttlMs);
    return result;
  };
}
