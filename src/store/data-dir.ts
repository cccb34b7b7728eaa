import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Development-only secrets kept in the data directory (`.handoff/` by default): generated
 * once with mode 0600 and reused on later starts, so a restart does not strand encrypted data.
 */
export interface GeneratedSecret {
  readonly value: string;
  readonly path: string;
  /** True when this call created the file. */
  readonly created: boolean;
}

export async function readOrCreateSecret(
  dataDir: string,
  name: string,
  generate: () => string,
): Promise<GeneratedSecret> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, name);
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (value) return { value, path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = generate();
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'w' });
  await chmod(path, 0o600);
  return { value, path, created: true };
}

export const generateVaultKey = (): string => randomBytes(32).toString('base64');
export const generateApiToken = (): string => `hot_${randomBytes(24).toString('base64url')}`;
