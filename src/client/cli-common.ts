import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBridgeClient, type BridgeClient } from './bridge-client.js';
import { resolveSecretFiles } from '../core/config-files.js';

/** What every `handoff` command shares: where output goes, usage errors, the bridge client. */
export class UsageError extends Error {}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when progress may be drawn on stderr. */
  readonly interactive: boolean;
  /** Standard input, read whole (for `agents hash --stdin`). */
  readInput?(): Promise<string>;
}

export const defaultIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  interactive: Boolean(process.stderr.isTTY),
  async readInput() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export type Command = (argv: string[], env: NodeJS.ProcessEnv, io: Io) => Promise<number>;

async function adminToken(env: NodeJS.ProcessEnv): Promise<string> {
  // HANDOFF_API_TOKEN_FILE is read (and its mode checked) the way the bridge reads it.
  const given = resolveSecretFiles({
    HANDOFF_API_TOKEN: env.HANDOFF_API_TOKEN,
    HANDOFF_API_TOKEN_FILE: env.HANDOFF_API_TOKEN_FILE,
  }).HANDOFF_API_TOKEN?.trim();
  if (given) return given;
  const path = join(env.HANDOFF_DATA_DIR ?? '.handoff', 'api-token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    throw new UsageError(
      `No API token: set HANDOFF_API_TOKEN, or run this where the bridge keeps ${path} (start the bridge with npm start first).`,
    );
  }
}

/**
 * The bridge client for a command. `agent`: an agent's command (login, status…), which uses
 * `HANDOFF_AGENT_KEY` when set, else the operator's token. `admin`: an operator's command
 * (`agents …`), which uses `HANDOFF_API_TOKEN`, else the token `npm start` generated.
 */
export async function clientFrom(
  env: NodeJS.ProcessEnv,
  as: 'agent' | 'admin' = 'agent',
): Promise<BridgeClient & { readonly asAgent: boolean }> {
  const baseUrl = env.HANDOFF_URL ?? `http://127.0.0.1:${env.PORT ?? 8080}`;
  const agentKey = as === 'agent' ? env.HANDOFF_AGENT_KEY : undefined;
  const apiToken = agentKey || (await adminToken(env));
  const allowInsecureUrl = /^(1|true|yes|on)$/i.test(env.HANDOFF_ALLOW_INSECURE_URL?.trim() ?? '');
  return { ...createBridgeClient({ baseUrl, apiToken, allowInsecureUrl }), asAgent: Boolean(agentKey) };
}

export async function writeSecretFile(path: string, content: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}
