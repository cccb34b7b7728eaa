import { asHandoffError } from '../core/errors.js';
import { maskSecrets } from '../core/secret-patterns.js';

/**
 * BullMQ stores a failed job's message and stack in Redis. This keeps only our error code and
 * a masked message, so nothing secret-shaped is ever written there.
 */
export function safeError(err: unknown): Error {
  const e = asHandoffError(err);
  const out = new Error(maskSecrets(`${e.code}: ${e.message}`));
  out.name = 'HandoffJobError';
  out.stack = out.message;
  return out;
}
