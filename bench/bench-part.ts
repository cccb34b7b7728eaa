import type { Redis } from '../src/store/redis.js';
import type { Sandbox } from '../src/sandbox/index.js';

/**
 * One group of figures in `npm run bench`. Each part owns its flags, its measurement and how
 * its result reads against its targets; bench/parts.ts lists them and bench/run.ts runs them.
 */
export interface BenchContext {
  readonly redis: Redis;
  readonly redisUrl: string;
  /** Random prefix of this run; parts add a suffix and register it with `track`. */
  readonly base: string;
  /** Where bridges started by the bench write their logs. */
  readonly logDir: string;
  /** The sandbox service's agent-sessions root, on its own HTTP server. */
  readonly serviceUrl: string;
  /** That sandbox service (its counts of token exchanges). */
  readonly sandbox: Sandbox;
  /** A whole-number flag value (the part declared it in `flags`), at least `min` (default 1). */
  int(flag: string, min?: number): number;
  progress(msg: string): void;
  /** Registers a Redis prefix before use, so an interrupted run deletes its keys. */
  track(prefix: string): string;
}

/** One row of the report. `pass` undefined: reported only, no target. */
export interface Check {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  readonly pass: boolean | undefined;
}

export interface BenchPart<R = unknown> {
  /** The `--only` name. */
  readonly name: string;
  /** What it measures, for progress lines. */
  readonly title: string;
  /** Flags it reads, with their defaults (flags with one name mean one thing across parts). */
  readonly flags: Readonly<Record<string, string>>;
  run(ctx: BenchContext): Promise<R>;
  checks(result: R): Check[];
  /** Extra lines under the table (e.g. a breakdown). */
  details?(result: R): string | undefined;
}

/** What running a part yields: its raw result (for the JSON file), its rows and extra lines. */
export interface PartOutcome {
  readonly result: unknown;
  readonly checks: Check[];
  readonly details: string | undefined;
}

/** A part with its result type erased, so parts with different results share one list. */
export interface RunnablePart {
  readonly name: string;
  readonly title: string;
  readonly flags: Readonly<Record<string, string>>;
  execute(ctx: BenchContext): Promise<PartOutcome>;
}

/** Declares a part; its result type is checked against its own functions, then erased. */
export function benchPart<R>(part: BenchPart<R>): RunnablePart {
  return {
    name: part.name,
    title: part.title,
    flags: part.flags,
    async execute(ctx) {
      const result = await part.run(ctx);
      return { result, checks: part.checks(result), details: part.details?.(result) };
    },
  };
}
