import type { Worker } from 'bullmq';
import type { Logger } from '../core/logger.js';

const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/** A lost or refused Redis connection, which ioredis retries on its own. */
export function isConnectionError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && connectionCodes.has(code)) || err.message.includes('Connection is closed');
}

/**
 * Logs a worker's errors. While Redis is away every worker fails each reconnection attempt;
 * the bridge's connection report says so once (store/redis.ts), so those stay at debug level.
 */
export function logWorkerErrors(
  worker: Worker,
  logger: Logger,
  what: string,
  fields: Record<string, unknown> = {},
): void {
  worker.on('error', (err) => {
    if (isConnectionError(err))
      logger.debug(`${what}: Redis unreachable, retrying`, { ...fields, reason: err.message });
    else logger.error(`${what} error`, { ...fields, error: err });
  });
}
