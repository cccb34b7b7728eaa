import { z } from 'zod';

/** Field types shared by the configuration schema's parts. Empty variables never reach them. */
const portMessage = 'must be a whole number from 0 to 65535';
export const port = z.coerce
  .number({ error: portMessage })
  .int(portMessage)
  .min(0, portMessage)
  .max(65535, portMessage);
const msMessage = 'must be a positive whole number of milliseconds';
export const positiveMs = z.coerce.number({ error: msMessage }).int(msMessage).positive(msMessage);
export const flag = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no']))
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));
export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const nonNegativeMessage = 'must be a whole number of milliseconds (0 or more)';
export const nonNegativeMs = z.coerce
  .number({ error: nonNegativeMessage })
  .int(nonNegativeMessage)
  .min(0, nonNegativeMessage);
/** A count from 1 to `max`. */
export const count = (max: number) => {
  const message = `must be a whole number from 1 to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(1, message).max(max, message);
};
