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

/**
 * A field of comma- or newline-separated `ORIGIN=REST` entries, each origin once (as
 * `HANDOFF_CIBA_CLIENTS`): `parse` reads REST into a value, or says what is wrong with it.
 * Messages name the entry by number and the origin, never REST itself.
 */
export function originKeyedEntries<T>(
  example: string,
  parse: (rest: string, origin: string) => { value: T } | { problem: string },
) {
  return z.string().transform((v, ctx) => {
    const out: Record<string, T> = {};
    const entries = v
      .split(/[,\n]/)
      .map((p) => p.trim())
      .filter(Boolean);
    for (const [index, entry] of entries.entries()) {
      const fail = (why: string) => {
        ctx.addIssue({ code: 'custom', message: `entry ${index + 1} ${why} (each entry is ${example})` });
        return z.NEVER;
      };
      const at = entry.indexOf('=');
      let origin: URL | undefined;
      try {
        origin = new URL(at > 0 ? entry.slice(0, at).trim() : '');
      } catch {
        origin = undefined;
      }
      if (!origin || !/^https?:$/.test(origin.protocol)) return fail('does not start with an http(s) origin and "="');
      const parsed = parse(entry.slice(at + 1), origin.origin);
      if ('problem' in parsed) return fail(`for ${origin.origin} ${parsed.problem}`);
      if (Object.hasOwn(out, origin.origin)) return fail(`repeats ${origin.origin}`);
      out[origin.origin] = parsed.value;
    }
    return out;
  });
}
