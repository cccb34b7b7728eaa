import { parseArgs } from 'node:util';
import { describeDuration, parseDuration } from '../core/clock.js';
import type { HandoffError } from '../core/errors.js';
import { formatUtc } from '../core/messages.js';
import { maxEscalationSteps, maxReminders, minReminderMs } from '../core/waiting.js';
import type { EscalationInput, HandoffView, ReminderInput } from '../core/wire.js';
import { clientFrom, UsageError, type Command, type Io } from './cli-common.js';
import { exitCodeFor, exitCodes } from './cli-output.js';

/**
 * Waiting well from the command line (issue #14): the reminder and escalation flags that
 * `login` and `request-approval` share, and `handoff extend`. Flags are checked here, naming
 * the flag; the bridge checks the rest (an approver it cannot resolve, a thread it refuses)
 * and its sentence is shown as it gave it.
 */
export const waitingOptions = {
  'remind-after': { type: 'string' },
  'remind-every': { type: 'string' },
  'remind-max': { type: 'string' },
  escalate: { type: 'string', multiple: true },
} as const;

export const waitingUsage = `[--remind-after 10m [--remind-every 30m] [--remind-max N]]
        [--escalate AFTER=APPROVER[,APPROVER…][@THREAD]]...`;

export const waitingHelp = `--remind-after reminds the approvers after that
                                 long, then every --remind-every (default: the
                                 same), at most --remind-max times (default 3);
                                 --escalate 15m=olga,pat@local:oncall makes olga and
                                 pat approvers too after 15 min and tells them in the
                                 thread and in local:oncall (@THREAD is optional)`;

interface WaitingValues {
  readonly 'remind-after'?: string | undefined;
  readonly 'remind-every'?: string | undefined;
  readonly 'remind-max'?: string | undefined;
  readonly escalate?: readonly string[] | undefined;
}

/** A duration flag's value in ms: `90s`, `10m`, `2h`, `1d` or plain milliseconds. */
export function durationFlag(flag: string, text: string, min = 1): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < min)
    throw new UsageError(
      `--${flag} "${text.slice(0, 40)}" is not a duration${min > 1 ? ` of at least ${describeDuration(min)}` : ''}; use e.g. 90s, 10m, 2h or plain milliseconds.`,
    );
  return ms;
}

function wholeNumberFlag(flag: string, text: string, max: number): number {
  const n = /^\d{1,3}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= max))
    throw new UsageError(`--${flag} "${text.slice(0, 40)}" must be a whole number from 0 to ${max}.`);
  return n;
}

/**
 * One `--escalate` step: `AFTER=APPROVER[,APPROVER…][@THREAD]`. THREAD is a thread ref
 * (`platform:…`), so an `@` that is part of an approver's email is never taken for it.
 */
export function escalationFlag(text: string): EscalationInput {
  const match = /^([^=]+)=(.+?)(?:@([a-z][a-z0-9-]*:.+))?$/.exec(text.trim());
  const approvers = match?.[2]?.split(',').map((a) => a.trim()) ?? [];
  // No approver id or email has a colon: one that does is a thread ref without its `@`.
  if (!match || approvers.some((a) => a.length === 0 || a.includes(':')))
    throw new UsageError(
      `--escalate "${text.slice(0, 80)}" must be AFTER=APPROVER[,APPROVER…][@THREAD], e.g. 15m=olga,pat@local:oncall.`,
    );
  return {
    afterMs: durationFlag('escalate', match[1]!.trim(), minReminderMs),
    approvers,
    ...(match[3] ? { thread: match[3] } : {}),
  };
}

/** `remind` and `escalate` for the request, from the flags (absent when none were given). */
export function waitingFrom(values: WaitingValues): { remind?: ReminderInput; escalate?: EscalationInput[] } {
  const after = values['remind-after'];
  if (after === undefined && (values['remind-every'] !== undefined || values['remind-max'] !== undefined))
    throw new UsageError('--remind-every and --remind-max need --remind-after (when the first reminder is due).');
  const steps = (values.escalate ?? []).map(escalationFlag);
  if (steps.length > maxEscalationSteps)
    throw new UsageError(
      `--escalate is given ${steps.length} times; a request has at most ${maxEscalationSteps} steps.`,
    );
  return {
    ...(after !== undefined
      ? {
          remind: {
            afterMs: durationFlag('remind-after', after, minReminderMs),
            ...(values['remind-every'] !== undefined
              ? { everyMs: durationFlag('remind-every', values['remind-every'], minReminderMs) }
              : {}),
            ...(values['remind-max'] !== undefined
              ? { max: wholeNumberFlag('remind-max', values['remind-max'], maxReminders) }
              : {}),
          },
        }
      : {}),
    ...(steps.length ? { escalate: steps } : {}),
  };
}

/** Exit code of `extend` for a handoff that already ended: its ending's, or 1 when it completed. */
function endedExitCode(err: HandoffError): number {
  const status = err.details?.status as HandoffView['status'] | undefined;
  return status && status !== 'completed' ? exitCodeFor(status) : exitCodes.error;
}

/** `handoff extend ID --expires-in DUR`: the handoff now waits that long from now. */
const extend: Command = async (argv: string[], env: NodeJS.ProcessEnv, io: Io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'expires-in': { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('extend needs one handoff id: handoff extend ID --expires-in 30m');
  if (values['expires-in'] === undefined) throw new UsageError('extend needs --expires-in DUR (e.g. 30m, 2h).');
  const expiresInMs = durationFlag('expires-in', values['expires-in']);
  const client = await clientFrom(env);
  try {
    const view = await client.extendHandoff(positionals[0]!, expiresInMs);
    io.out(
      values.json
        ? JSON.stringify({ handoff: view })
        : `Handoff ${view.id} now waits until ${formatUtc(view.expiresAt)} (${describeDuration(view.expiresAt - Date.now())} from now).`,
    );
    return exitCodes.done;
  } catch (err) {
    const e = err as HandoffError;
    if (e.code !== 'handoff_finished') throw err;
    io.err(`${e.message} [${e.code}]`);
    return endedExitCode(e);
  }
};

export const waitingCommands: Record<string, Command> = { extend };

export const extendUsage = `  extend ID --expires-in DUR [--json]
                                 give people more time: the handoff now waits DUR from now
                                 (at most 5 times; exit 3/4/5 when it already expired, failed
                                 or was cancelled)`;
