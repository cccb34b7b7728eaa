import { maskSecrets } from './secret-patterns.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields of a log line. Never put secret values here. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

/** Where finished lines go: one JSON object (or one pretty line) per call. */
export type LogSink = (line: string) => void;

/**
 * process.stderr, written in batches: lines are joined and written 20 ms after the first of a
 * batch (or at once past 64 Ki characters), so a busy worker does not pay a system call (and wake the
 * reader of its pipe) for every line. Written at once on `exit` too; only a process killed
 * outright (SIGKILL) loses the lines of its last 20 ms.
 */
export const stderrFlushMs = 20;
const stderrBatchChars = 64 * 1024;
let stderrPending: string[] = [];
let stderrPendingChars = 0;
let stderrTimer: NodeJS.Timeout | undefined;
function flushStderr(): void {
  if (stderrTimer) clearTimeout(stderrTimer);
  stderrTimer = undefined;
  if (stderrPending.length === 0) return;
  const text = stderrPending.join('');
  stderrPending = [];
  stderrPendingChars = 0;
  process.stderr.write(text);
}
let flushOnExit = false;
export const stderrSink: LogSink = (line) => {
  if (!flushOnExit) {
    flushOnExit = true;
    process.once('exit', flushStderr);
  }
  stderrPending.push(`${line}\n`);
  stderrPendingChars += line.length + 1;
  if (stderrPendingChars >= stderrBatchChars) flushStderr();
  // Unref'd: a batch waiting to be written never keeps the process alive (exit writes it).
  else if (!stderrTimer) stderrTimer = setTimeout(flushStderr, stderrFlushMs).unref();
};

export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Default: stderrSink (process.stderr, written in batches every 20 ms). */
  sink?: LogSink;
  /** `json` (default) or `pretty` for a terminal. */
  format?: 'json' | 'pretty';
  bindings?: LogFields;
}

function serialiseError(err: Error): LogFields {
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code === undefined ? {} : { code }) };
}

function normalise(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? serialiseError(value) : value;
  }
  return out;
}

/**
 * A small structured logger. Every finished line passes through `maskSecrets`, so a token
 * that slips into a message or an error is masked before it reaches the sink.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = rank[options.level ?? 'info'];
  const sink: LogSink = options.sink ?? stderrSink;
  const format = options.format ?? 'json';
  const bindings = options.bindings ?? {};

  const write = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (rank[level] < threshold) return;
    const record = { ...bindings, ...normalise(fields), time: new Date().toISOString(), level, msg };
    let line: string;
    if (format === 'pretty') {
      const extra = Object.entries(record)
        .filter(([key]) => !['time', 'level', 'msg'].includes(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      line = `${record.time.slice(11, 19)} ${level.padEnd(5)} ${msg}${extra ? `  ${extra}` : ''}`;
    } else {
      line = JSON.stringify(record);
    }
    sink(maskSecrets(line));
  };

  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}

/** A logger that drops everything (for tools that must stay quiet). */
export const silentLogger: Logger = createLogger({ sink: () => undefined, level: 'error' });
