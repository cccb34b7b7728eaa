import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * Secret settings read from files: every variable below may instead be given as
 * `<NAME>_FILE=/run/secrets/…` (Docker and Kubernetes secrets, systemd credentials), so the
 * secret never sits in the environment, where `ps e`, crash reports and child processes see
 * it. The file's content, without surrounding whitespace, becomes the value, before the one
 * schema checks it like any other. Each platform adds its own secret variables
 * (`PlatformDescriptor.secretVariables`).
 */
export const secretVariables = [
  'HANDOFF_API_TOKEN',
  'HANDOFF_VAULT_KEY',
  'HANDOFF_VAULT_PREVIOUS_KEYS',
  'HANDOFF_METRICS_TOKEN',
  'REDIS_URL',
  // OpenID CIBA client secrets (src/core/config-ciba.ts)
  'HANDOFF_CIBA_CLIENTS',
  // the bridge's ID-JAG signing key (src/core/config-id-jag.ts)
  'HANDOFF_ID_JAG_KEY',
] as const;

/** How secret files are read (injected by tests; default node:fs). */
export interface SecretFileReader {
  /** The file's text and permission bits (`mode & 0o777`); throws a Node error when it cannot be read. */
  read(path: string): { readonly text: string; readonly mode: number };
  /** False where permission bits mean nothing (Windows). Default: not on win32. */
  readonly checksMode: boolean;
}

export const nodeSecretFileReader: SecretFileReader = {
  read: (path) => ({ mode: statSync(path).mode & 0o777, text: readFileSync(path, 'utf8') }),
  checksMode: process.platform !== 'win32',
};

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * The environment with every `<NAME>_FILE` replaced by `<NAME>` read from that file. Refuses
 * (naming both variables, or the file and the fix) a variable set both ways, a file that cannot
 * be read or is empty, and a file that its group or others may read.
 */
export function resolveSecretFiles(
  env: Readonly<Record<string, string | undefined>>,
  reader: SecretFileReader = nodeSecretFileReader,
  /** Secret variables besides the bridge's own: the registered platforms'. */
  more: readonly string[] = [],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  const problems: Array<[variable: string, message: string]> = [];
  for (const name of [...secretVariables, ...more]) {
    const fileVariable = `${name}_FILE`;
    const path = env[fileVariable];
    delete out[fileVariable];
    if (!isSet(path)) continue;
    if (isSet(env[name])) {
      problems.push([
        fileVariable,
        `and ${name} are both set: give the secret one way, in the variable or in the file.`,
      ]);
      continue;
    }
    let file: { text: string; mode: number };
    try {
      file = reader.read(path.trim());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push([
        fileVariable,
        `names ${path.trim()}, which cannot be read${code ? ` (${code})` : ''}: check the path and that this user may read it.`,
      ]);
      continue;
    }
    if (reader.checksMode && (file.mode & 0o077) !== 0) {
      problems.push([
        fileVariable,
        `names ${path.trim()}, which its group or others may read (mode 0${file.mode.toString(8)}): run chmod 600 ${path.trim()} (in Kubernetes, defaultMode: 0400).`,
      ]);
      continue;
    }
    const value = file.text.trim();
    if (value === '') {
      problems.push([fileVariable, `names ${path.trim()}, which is empty.`]);
      continue;
    }
    out[name] = value;
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems[0]![0],
      `Invalid configuration:\n  - ${problems.map(([variable, message]) => `${variable} ${message}`).join('\n  - ')}`,
    );
  }
  return out;
}
