import { maskSecrets } from '../src/core/secret-patterns.js';
import type { BenchContext, Check, PartOutcome, RunnablePart } from './bench-part.js';

/**
 * The bench's loop over its parts (bench/run.ts): each part runs in turn, and one that throws
 * is recorded as failed (its name and a masked, one-line message) while the others still run,
 * so one broken part never costs the figures of the rest.
 */
export interface PartFailure {
  readonly part: string;
  readonly error: string;
}

export interface PartsRun {
  /** The outcomes of the parts that ran to the end, by name, in run order. */
  readonly outcomes: Readonly<Record<string, PartOutcome>>;
  readonly failures: readonly PartFailure[];
}

/** Longest message kept for a failed part, in characters. */
export const maxFailureMessage = 300;

/**
 * An error as one short line fit for the report: secret shapes masked (secretPatterns), a
 * URL's user and password dropped (a REDIS_URL's, say), whitespace folded, the length bounded.
 */
export function failureMessage(err: unknown): string {
  const raw = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const line = maskSecrets(raw.replace(/\/\/[^\s/]*@/g, '//***@'))
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(line || 'failed without a message');
  return chars.length <= maxFailureMessage ? chars.join('') : `${chars.slice(0, maxFailureMessage - 1).join('')}…`;
}

/** The report's row for a failed part: it reads FAIL in the table. */
export function failureCheck(failure: PartFailure, title: string): Check {
  return {
    figure: `${failure.part}: ${title}`,
    measured: `part failed: ${failure.error}`,
    target: 'runs',
    pass: false,
  };
}

export async function runParts(
  parts: readonly RunnablePart[],
  ctx: BenchContext,
  options: {
    /** After a part failed, before the next one starts (stop what it left running). */
    readonly afterFailure?: () => Promise<void>;
  } = {},
): Promise<PartsRun> {
  const outcomes: Record<string, PartOutcome> = {};
  const failures: PartFailure[] = [];
  for (const [i, part] of parts.entries()) {
    ctx.progress(`${i + 1}/${parts.length} ${part.name}: ${part.title}`);
    try {
      outcomes[part.name] = await part.execute(ctx);
    } catch (err) {
      const failure = { part: part.name, error: failureMessage(err) };
      failures.push(failure);
      ctx.progress(`${part.name} failed: ${failure.error}`);
      await options.afterFailure?.().catch((cleanUpErr: unknown) => {
        ctx.progress(`cleaning up after ${part.name} failed too: ${failureMessage(cleanUpErr)}`);
      });
    }
  }
  return { outcomes, failures };
}

/** The table's rows and the lines under it, in run order: a failed part's row where its figures would be. */
export function reportOf(parts: readonly RunnablePart[], run: PartsRun): { checks: Check[]; details: string[] } {
  const checks: Check[] = [];
  const details: string[] = [];
  for (const part of parts) {
    const outcome = run.outcomes[part.name];
    const failure = run.failures.find((f) => f.part === part.name);
    if (outcome) {
      checks.push(...outcome.checks);
      if (outcome.details) details.push(outcome.details);
    } else if (failure) checks.push(failureCheck(failure, part.title));
  }
  return { checks, details };
}
