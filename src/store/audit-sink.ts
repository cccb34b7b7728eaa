import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditSinkConfig } from '../core/config-agents.js';
import { ConfigError } from '../core/errors.js';
import { maskSecrets } from '../core/secret-patterns.js';
import type { AuditEntry } from './audit-log.js';

/**
 * Audit entries written outside Redis as JSON lines, so wiping Redis does not wipe history:
 * on standard output (logs go to standard error), or appended to a file created with mode
 * 0600. Append-only: the bridge never reads, rewrites or truncates it. Entries carry no
 * secrets by construction; every line is masked anyway, like log lines.
 */
export interface AuditSink {
  write(entry: AuditEntry, at: number): Promise<void>;
  close(): Promise<void>;
}

/** One entry as one line: the time first, absent fields left out. */
export function auditLine(entry: AuditEntry, at: number): string {
  return maskSecrets(JSON.stringify({ time: new Date(at).toISOString(), ...entry }));
}

export async function openAuditSink(
  config: AuditSinkConfig,
  stdout: (line: string) => void = (line) => void process.stdout.write(line),
): Promise<AuditSink | undefined> {
  if (config.kind === 'off') return undefined;
  if (config.kind === 'stdout') {
    return { write: async (entry, at) => stdout(`${auditLine(entry, at)}\n`), close: async () => undefined };
  }
  let file: FileHandle;
  try {
    // O_APPEND: each line lands whole at the end, however many processes share the file.
    file = await open(config.path, 'a', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(
      'HANDOFF_AUDIT_SINK',
      `HANDOFF_AUDIT_SINK: cannot open ${config.path} for appending (${code}); create ${dirname(config.path)} or choose another path.`,
    );
  }
  return {
    write: async (entry, at) => void (await file.appendFile(`${auditLine(entry, at)}\n`)),
    close: () => file.close(),
  };
}
