import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createBridgeClient, type BridgeClient } from '../src/client/bridge-client.js';
import { loadHandoffConfig as loadConfig } from '../src/main.js';
import { createLogger } from '../src/core/logger.js';
import { startHandoff, type RunningHandoff } from '../src/main.js';

/**
 * A bridge in this process, built the way `handoff serve` builds one: loadConfig() from an
 * environment, then startHandoff(). Production settings (no built-in sandbox; services reach
 * it over loopback HTTP), a background poll far slower than the bench, logs to a file.
 */
export interface InprocBridge {
  readonly running: RunningHandoff;
  readonly url: string;
  readonly apiToken: string;
  readonly client: BridgeClient;
  close(): Promise<void>;
}

export function bridgeEnv(options: {
  prefix: string;
  redisUrl: string;
  apiToken: string;
  vaultKey: Buffer;
  port?: number;
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    REDIS_URL: options.redisUrl,
    HANDOFF_PREFIX: options.prefix,
    HANDOFF_API_TOKEN: options.apiToken,
    HANDOFF_VAULT_KEY: options.vaultKey.toString('base64'),
    HANDOFF_SANDBOX: '0',
    // The bench's people answer in local threads (off by default in production).
    HANDOFF_LOCAL_THREADS: 'on',
    // The bench's sandbox is a service on this machine: production refuses loopback unless allowed.
    HANDOFF_ALLOWED_SERVICES: 'http://127.0.0.1:*',
    // No background poll during the bench: only the reply may finish a handoff.
    HANDOFF_POLL_INTERVAL_MS: String(3_600_000),
    // The audit's copy outside Redis would print every entry on the bench's terminal.
    HANDOFF_AUDIT_SINK: 'off',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  };
}

export async function startInprocBridge(options: {
  prefix: string;
  redisUrl: string;
  logFile: string;
  env?: Record<string, string>;
}): Promise<InprocBridge> {
  const apiToken = `bench-${randomBytes(16).toString('hex')}`;
  const vaultKey = randomBytes(32);
  const config = loadConfig({
    ...bridgeEnv({ prefix: options.prefix, redisUrl: options.redisUrl, apiToken, vaultKey }),
    ...options.env,
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const logger = createLogger({ level: config.log.level, format: 'json', sink: (line) => log.write(`${line}\n`) });
  const running = await startHandoff(config, { redisUrl: options.redisUrl, vaultKey, apiToken, logger });
  const url = running.bridge.url!;
  return {
    running,
    url,
    apiToken,
    client: createBridgeClient({ baseUrl: url, apiToken }),
    async close() {
      await running.bridge.close();
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}
