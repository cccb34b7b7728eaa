import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { ConfigError, HandoffError } from '../core/errors.js';
import { createKeys } from '../store/keys.js';
import { connectRedis, redactUrl } from '../store/redis.js';
import { createVault, vaultKeyId } from '../store/vault.js';
import { rekeyVault, sealedKinds, type RekeyReport } from './vault-rekey.js';

/**
 * `handoff vault rekey [--json]`, run with the bridge's own environment after every bridge
 * has the new HANDOFF_VAULT_KEY and the old one in HANDOFF_VAULT_PREVIOUS_KEYS. Exit codes:
 * 0 everything is sealed under the current key, 1 some values could not be (unreadable or
 * busy; the report says which), 2 usage or configuration.
 */
export const vaultUsage = `Usage: handoff vault rekey [--json]

Seals every sealed value (credentials, waiting handoffs' login secrets, queued reply text) again
under HANDOFF_VAULT_KEY, opening them with it or a key in HANDOFF_VAULT_PREVIOUS_KEYS. Safe while
bridges run; run it again to finish an interrupted run. Needs REDIS_URL and HANDOFF_PREFIX as the
bridge has them. See docs/operations.md, "Rotating the vault key".`;

export interface VaultCommandIo {
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: VaultCommandIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

const labels: Record<(typeof sealedKinds)[number], string> = {
  credentials: 'credentials',
  loginSecrets: 'login secrets of waiting handoffs',
  inboundReplies: 'queued reply text',
};

function describe(report: RekeyReport): string {
  const { total } = report;
  const lines = [
    `Vault rekey under key ${report.keyId}: ${total.resealed} resealed, ${total.current} already current, ${total.unreadable} unreadable, ${total.busy} busy.`,
  ];
  for (const kind of sealedKinds) {
    const c = report.kinds[kind];
    lines.push(
      `  ${labels[kind].padEnd(34)} ${c.resealed} resealed, ${c.current} current, ${c.unreadable} unreadable, ${c.busy} busy`,
    );
  }
  if (total.unreadable > 0)
    lines.push(
      `${total.unreadable} value(s) open with no key given: add the key that sealed them to HANDOFF_VAULT_PREVIOUS_KEYS and run again.`,
    );
  if (total.busy > 0)
    lines.push(`${total.busy} value(s) kept changing while being resealed: run again to finish them.`);
  return lines.join('\n');
}

export async function runVaultCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: VaultCommandIo = defaultIo,
): Promise<number> {
  let json: boolean;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1 || positionals[0] !== 'rekey')
      throw new Error(
        positionals.length ? `Unknown vault command "${positionals.join(' ')}".` : 'vault needs a command.',
      );
    json = values.json ?? false;
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${vaultUsage}`);
    return 2;
  }

  try {
    // Only the store settings matter here; production's other requirements (the API token) and
    // the platforms' variables do not.
    const config = loadConfig({ ...env, NODE_ENV: 'development' }, []);
    if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'vault rekey needs REDIS_URL: the Redis the bridge uses.');
    if (!config.vaultKey)
      throw new ConfigError(
        'HANDOFF_VAULT_KEY',
        'vault rekey needs HANDOFF_VAULT_KEY (or HANDOFF_VAULT_KEY_FILE): the key to seal everything under.',
      );
    const redis = await connectRedis(config.redisUrl);
    try {
      const keys = createKeys(config.prefix);
      const vault = createVault({ redis, keys, key: config.vaultKey, previousKeys: config.vaultPreviousKeys });
      const report = await rekeyVault({ redis, keys, vault, keyId: vaultKeyId(config.vaultKey) });
      io.out(json ? JSON.stringify(report) : describe(report));
      if (!json) io.err(`(Redis ${redactUrl(config.redisUrl)}, prefix ${config.prefix})`);
      return report.total.unreadable > 0 || report.total.busy > 0 ? 1 : 0;
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  } catch (err) {
    if (err instanceof HandoffError) {
      io.err(err.message);
      return err instanceof ConfigError ? 2 : 1;
    }
    throw err;
  }
}
