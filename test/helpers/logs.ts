import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { logDir } from './environment.js';

/**
 * A real logger whose lines go to a file in the suite's log directory (scanned for secrets at
 * the end) and are kept in memory so a test can read what was logged.
 */
export function captureLogs(name: string): { logger: Logger; lines: string[]; file: string } {
  mkdirSync(logDir, { recursive: true });
  const file = join(logDir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}.log`);
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    sink: (line) => {
      lines.push(line);
      appendFileSync(file, `${line}\n`);
    },
  });
  return { logger, lines, file };
}
