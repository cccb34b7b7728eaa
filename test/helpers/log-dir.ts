import { join } from 'node:path';

/** Every log line of the suite (ours and child processes') lands here and is scanned at the end. */
export const logDir = join(process.cwd(), 'test-results', 'logs');
