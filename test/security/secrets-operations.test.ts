import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rekeyVault, type RekeyReport } from '../../src/app/vault-rekey.js';
import { runVaultCommand } from '../../src/app/vault-command.js';
import { runCli } from '../../src/client/cli.js';
import { loadPlatformConfig as loadConfig } from '../helpers/platform-config.js';
import { secretVariables } from '../../src/core/config-files.js';
import { platforms } from '../../src/main.js';
import { ConfigError } from '../../src/core/errors.js';
import { openLoginSecret } from '../../src/engine/login-secret.js';
import { inboundSealContext } from '../../src/queue/inbound-intake.js';
import { createKeys } from '../../src/store/keys.js';
import { createVault, vaultKeyId, type Vault } from '../../src/store/vault.js';
import { approvalIn } from '../helpers/agent.js';
import { redisUrl } from '../helpers/environment.js';
import { runCli as runProcess } from '../helpers/processes.js';
import { connectTestRedis, deletePrefix, dumpPrefix, randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, "secrets operations" (the vault and secret-file half; a stalled Redis, plain http
 * and the claim lease are in outage-and-transport.test.ts): the vault key could not be
 * rotated, and secrets could be given only in the environment.
 */

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const keyC = randomBytes(32);
const b64 = (key: Buffer) => key.toString('base64');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** Every vault blob stored under `prefix`, by the id of the key that sealed it. */
async function blobKeyIds(prefix: string): Promise<string[]> {
  const redis = connectTestRedis();
  try {
    return [
      ...(await dumpPrefix(redis, prefix)).matchAll(
        /\bv1\.([A-Za-z0-9_-]{8})\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
      ),
    ].map((m) => m[1]!);
  } finally {
    redis.disconnect();
  }
}

describe('vault key rotation: HANDOFF_VAULT_PREVIOUS_KEYS and handoff vault rekey', () => {
  const prefix = randomPrefix('rekey');
  const env = (key: Buffer, previous: Buffer[] = []) => ({
    REDIS_URL: redisUrl,
    HANDOFF_PREFIX: prefix,
    HANDOFF_VAULT_KEY: b64(key),
    ...(previous.length ? { HANDOFF_VAULT_PREVIOUS_KEYS: previous.map(b64).join(',') } : {}),
  });
  let completedId: string;
  let tokenA: string;
  let codeA: string;
  let waiting: { id: string; secret: unknown };
  let last: TestBridge | undefined;

  afterAll(async () => {
    if (last)
      await last.close(); // deletes the prefix
    else {
      const redis = connectTestRedis();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });

  const rekey = async (key: Buffer, previous: Buffer[] = []) => {
    const { io, out, err } = capture();
    const code = await runVaultCommand(['rekey', '--json'], env(key, previous), io);
    return { code, report: out[0] ? (JSON.parse(out[0]) as RekeyReport) : undefined, err: err.join('\n') };
  };

  it('with key A: a finished login (credential, handled reply) and a waiting one (login secret)', async () => {
    const a = await startTestBridge('rekey-a', { prefix, vaultKey: keyA, env: { HANDOFF_POLL_INTERVAL_MS: '600000' } });
    const thread = freshThread('rekey');
    const done = await a.api.createHandoff({
      service: `${a.url}/sandbox`,
      thread,
      agent: { id: 'rekey' },
      approvers: ['alice'],
    });
    const { url } = await approvalIn(a, thread);
    codeA = await a.approve(url);
    await a.reply(thread, 'alice', codeA);
    await waitFor('completed', async () => (await a.api.getHandoff(done.id)).status === 'completed');
    completedId = done.id;
    tokenA = (await a.api.retrieveCredential(done.id)).accessToken;
    const second = freshThread('rekey-wait');
    const open = await a.api.createHandoff({
      service: `${a.url}/sandbox`,
      thread: second,
      agent: { id: 'rekey' },
      approvers: ['alice'],
    });
    await approvalIn(a, second);
    waiting = {
      id: open.id,
      secret: openLoginSecret(a.bridge.engine.vault, (await a.bridge.engine.store.get(open.id))!),
    };
    expect(waiting.secret).toBeDefined();
    await a.bridge.close(); // stops the bridge, keeps its Redis keys
    expect(new Set(await blobKeyIds(prefix))).toEqual(new Set([vaultKeyId(keyA)]));
  });

  it('a bridge with key B reads what A sealed through HANDOFF_VAULT_PREVIOUS_KEYS, and rekey moves everything to B while it runs', async () => {
    const b1 = await startTestBridge('rekey-b1', {
      prefix,
      vaultKey: keyB,
      env: { HANDOFF_VAULT_PREVIOUS_KEYS: b64(keyA), HANDOFF_POLL_INTERVAL_MS: '600000' },
    });
    try {
      expect((await b1.api.retrieveCredential(completedId)).accessToken).toBe(tokenA);
      const first = await rekey(keyB, [keyA]);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const { kinds, total } = first.report!;
      expect(first.report!.keyId).toBe(vaultKeyId(keyB));
      expect(kinds.credentials.resealed).toBeGreaterThanOrEqual(1);
      expect(kinds.loginSecrets.resealed).toBe(1);
      expect(kinds.inboundReplies.resealed).toBeGreaterThanOrEqual(1);
      expect(total).toMatchObject({ unreadable: 0, busy: 0 });
      expect(new Set(await blobKeyIds(prefix))).toEqual(new Set([vaultKeyId(keyB)]));

      // Running it again, as an operator would (`handoff vault rekey --json`), finds nothing
      // left to do: an interrupted run is finished the same way.
      const again = await runProcess('vault-rekey', ['vault', 'rekey', '--json'], env(keyB, [keyA]));
      expect(again.code, again.proc.describe()).toBe(0);
      expect((JSON.parse(again.stdout) as RekeyReport).total).toMatchObject({
        resealed: 0,
        unreadable: 0,
        busy: 0,
        current: total.scanned,
      });
      expect((await b1.api.retrieveCredential(completedId)).accessToken).toBe(tokenA);
    } finally {
      await b1.bridge.close();
    }
  });

  it('after the rekey, a bridge with key B alone opens every sealed value: credential, login secret, reply text', async () => {
    last = await startTestBridge('rekey-b2', { prefix, vaultKey: keyB, env: { HANDOFF_POLL_INTERVAL_MS: '600000' } });
    const { engine, queues } = last.bridge;
    expect((await last.api.retrieveCredential(completedId)).accessToken).toBe(tokenA);
    expect(openLoginSecret(engine.vault, (await engine.store.get(waiting.id))!)).toEqual(waiting.secret);
    const handled = (await queues.inbound.getJobs(['completed'])).map((job) =>
      engine.vault.open(job.data.sealedText, inboundSealContext(job.id!)),
    );
    expect(handled).toContain(codeA);
  });

  it('without the key that sealed them, rekey changes nothing, exits 1 and says which variable to fix', async () => {
    const before = await blobKeyIds(prefix);
    const { code, report } = await rekey(keyC);
    expect(code).toBe(1);
    expect(report!.total.unreadable).toBeGreaterThan(0);
    expect(report!.total.resealed).toBe(0);
    expect(await blobKeyIds(prefix)).toEqual(before);
    const { io, out } = capture();
    expect(await runVaultCommand(['rekey'], env(keyC), io)).toBe(1);
    expect(out.join('\n')).toContain('add the key that sealed them to HANDOFF_VAULT_PREVIOUS_KEYS');
  });

  it('refuses usage and configuration mistakes with exit 2, naming the variable', async () => {
    const { io, err } = capture();
    expect(await runVaultCommand(['rotate'], env(keyB), io)).toBe(2);
    expect(await runVaultCommand(['rekey'], { REDIS_URL: redisUrl, HANDOFF_PREFIX: prefix }, io)).toBe(2);
    expect(await runVaultCommand(['rekey'], { ...env(keyB), HANDOFF_VAULT_PREVIOUS_KEYS: 'not-a-key' }, io)).toBe(2);
    expect(err.join('\n')).toContain('Unknown vault command "rotate"');
    expect(err.join('\n')).toContain('vault rekey needs HANDOFF_VAULT_KEY');
    expect(err.join('\n')).toContain('HANDOFF_VAULT_PREVIOUS_KEYS must list keys of 32 random bytes');
  });
});

describe('rekey is safe while bridges change what it rewrites', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startTestBridge('rekey-race', { vaultKey: keyA, env: { HANDOFF_POLL_INTERVAL_MS: '600000' } });
  });
  afterAll(async () => bridge?.close());

  it('a record cancelled between the read and the write keeps its cancel (compare-and-set), and the rerun has nothing to do', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await bridge.api.createHandoff({
        service: `${bridge.url}/sandbox`,
        thread: freshThread('race'),
        agent: { id: 'race' },
      });
      ids.push(created.id);
    }
    for (const id of ids)
      await waitFor('waiting', async () => (await bridge.api.getHandoff(id)).status === 'awaiting_human');
    const redis = connectTestRedis();
    const keys = createKeys(bridge.prefix);
    const real = createVault({ redis, keys, key: keyB, previousKeys: [keyA] });
    // The cancel lands exactly between rekey's read of each record and its write.
    const racing: Vault = {
      ...real,
      reseal(blob, context) {
        const fresh = real.reseal(blob, context);
        const id = /^login-secret:(.+)$/.exec(context)?.[1];
        if (id) cancels.push(bridge.api.cancelHandoff(id));
        return fresh;
      },
    };
    const cancels: Promise<unknown>[] = [];
    const slowRedis = new Proxy(redis, {
      get(target, name, receiver) {
        // Let each cancel finish before the compare-and-set runs.
        if (name === 'evalsha' || name === 'eval') {
          const run = (target[name] as (...a: unknown[]) => Promise<unknown>).bind(target);
          return async (...args: unknown[]) => {
            await Promise.all(cancels);
            return run(...args);
          };
        }
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    try {
      const report = await rekeyVault({ redis: slowRedis, keys, vault: racing, keyId: vaultKeyId(keyB) });
      expect(report.kinds.loginSecrets.resealed).toBe(0);
      for (const id of ids) {
        const record = (await bridge.bridge.engine.store.get(id))!;
        expect(record.status).toBe('cancelled');
        expect(record.sealedSecret).toBeUndefined();
      }
      const rerun = await rekeyVault({ redis, keys, vault: real, keyId: vaultKeyId(keyB) });
      expect(rerun.kinds.loginSecrets).toMatchObject({ scanned: 0, resealed: 0 });
    } finally {
      redis.disconnect();
    }
  });
});

describe('secrets from files (<NAME>_FILE)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-secret-files-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const secretFile = async (name: string, content: string, mode = 0o600) => {
    const path = join(dir, `${name}-${randomBytes(3).toString('hex')}`);
    await writeFile(path, content, { mode });
    await chmod(path, mode);
    return path;
  };
  const base = {
    NODE_ENV: 'production',
    REDIS_URL: 'redis://redis.internal:6379',
    HANDOFF_API_TOKEN: 'k3J9x2PqLm8sVt4wZr7nYb5c',
    HANDOFF_VAULT_KEY: b64(keyA),
  };
  const configError = (env: Record<string, string | undefined>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('accepted');
  };

  it('reads each secret setting from a 0600 file (without its trailing newline)', async () => {
    const idJagKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const values: Record<string, string> = {
      HANDOFF_API_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
      HANDOFF_VAULT_KEY: b64(keyB),
      HANDOFF_VAULT_PREVIOUS_KEYS: `${b64(keyA)},${b64(keyC)}`,
      HANDOFF_METRICS_TOKEN: `met-${randomBytes(12).toString('hex')}`,
      REDIS_URL: 'rediss://bridge:s3cret@redis.internal:6380/0',
      SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdefghij',
      SLACK_SIGNING_SECRET: 'a'.repeat(32),
      SLACK_APP_TOKEN: 'xapp-1-A0123-456-abcdef',
      GITHUB_TOKEN: 'ghp_exampleexampleexample1234',
      GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----',
      GITHUB_WEBHOOK_SECRET: 'w'.repeat(20),
      LINEAR_API_KEY: 'lin_api_abc123',
      LINEAR_ACCESS_TOKEN: 'lin_oauth_abc123',
      LINEAR_WEBHOOK_SECRET: 'lin_wh_abc123',
      HANDOFF_CIBA_CLIENTS: 'https://login.example.com=handoff:s3cret-ciba',
      HANDOFF_ID_JAG_KEY: idJagKey,
    };
    for (const [name, value] of Object.entries(values)) {
      // Each alone on top of a valid production base, so exclusive pairs do not collide.
      const env: Record<string, string | undefined> = {
        ...base,
        [name]: undefined,
        [`${name}_FILE`]: await secretFile(name, `${value}\n`),
      };
      if (name === 'SLACK_SIGNING_SECRET' || name === 'SLACK_APP_TOKEN') env.SLACK_BOT_TOKEN = 'xoxb-1-2-x';
      if (name === 'GITHUB_WEBHOOK_SECRET') env.GITHUB_TOKEN = 'ghp_x';
      if (name === 'LINEAR_WEBHOOK_SECRET') env.LINEAR_API_KEY = 'lin_api_x';
      if (name === 'GITHUB_APP_PRIVATE_KEY') env.GITHUB_APP_ID = '42';
      if (name === 'SLACK_BOT_TOKEN') env.SLACK_SIGNING_SECRET = 'b'.repeat(32);
      if (name === 'HANDOFF_ID_JAG_KEY') {
        env.HANDOFF_ID_JAG_ISSUER = 'https://handoff.example.com';
        env.HANDOFF_ID_JAG_SERVICES = 'https://*.example.com';
      }
      const config = loadConfig(env);
      const got: Record<string, unknown> = {
        HANDOFF_API_TOKEN: config.apiToken,
        HANDOFF_VAULT_KEY: config.vaultKey && b64(config.vaultKey),
        HANDOFF_VAULT_PREVIOUS_KEYS: config.vaultPreviousKeys.map(b64).join(','),
        HANDOFF_METRICS_TOKEN: config.metricsToken,
        REDIS_URL: config.redisUrl,
        SLACK_BOT_TOKEN: config.slack?.botToken,
        SLACK_SIGNING_SECRET: config.slack?.inbound.mode === 'events' ? config.slack.inbound.signingSecret : undefined,
        SLACK_APP_TOKEN: config.slack?.inbound.mode === 'socket' ? config.slack.inbound.appToken : undefined,
        GITHUB_TOKEN: config.github?.auth.kind === 'token' ? config.github.auth.token : undefined,
        GITHUB_APP_PRIVATE_KEY: config.github?.auth.kind === 'app' ? config.github.auth.privateKey : undefined,
        GITHUB_WEBHOOK_SECRET: config.github?.webhookSecret,
        LINEAR_API_KEY: config.linear?.auth.kind === 'api_key' ? config.linear.auth.apiKey : undefined,
        LINEAR_ACCESS_TOKEN: config.linear?.auth.kind === 'access_token' ? config.linear.auth.accessToken : undefined,
        LINEAR_WEBHOOK_SECRET: config.linear?.webhookSecret,
        HANDOFF_CIBA_CLIENTS: Object.entries(config.login.cibaClients)
          .map(([origin, c]) => (c.kind === 'secret' ? `${origin}=${c.clientId}:${c.secret}` : origin))
          .join(','),
        // The key as read, exported again: the same key (a private key's PEM round-trips exactly).
        HANDOFF_ID_JAG_KEY: config.login.idJag?.key.export({ type: 'pkcs8', format: 'pem' }),
      };
      expect(got[name], name).toBe(value);
    }
    expect(Object.keys(values).sort()).toEqual(
      [...secretVariables, ...platforms.flatMap((p) => p.secretVariables)].sort(),
    );
  });

  it('refuses a secret given both ways, naming both variables', async () => {
    const err = configError({ ...base, HANDOFF_API_TOKEN_FILE: await secretFile('token', 'other-token-0123456789') });
    expect(err.variable).toBe('HANDOFF_API_TOKEN_FILE');
    expect(err.message).toContain('HANDOFF_API_TOKEN_FILE and HANDOFF_API_TOKEN are both set');
  });

  it('refuses a file that cannot be read, or is empty, naming the file', async () => {
    const missing = join(dir, 'no-such-file');
    const err = configError({ ...base, HANDOFF_VAULT_KEY: undefined, HANDOFF_VAULT_KEY_FILE: missing });
    expect(err.message).toContain(`HANDOFF_VAULT_KEY_FILE names ${missing}, which cannot be read (ENOENT)`);
    const empty = await secretFile('empty', '\n');
    expect(configError({ ...base, HANDOFF_API_TOKEN: undefined, HANDOFF_API_TOKEN_FILE: empty }).message).toContain(
      `${empty}, which is empty`,
    );
  });

  it.each(['644', '640', '604', '660', '606'])(
    'refuses a key file of mode %s, naming the file and the chmod that fixes it',
    async (octal) => {
      const mode = Number.parseInt(octal, 8);
      const path = await secretFile('vault', b64(keyB), mode);
      const err = configError({ ...base, HANDOFF_VAULT_KEY: undefined, HANDOFF_VAULT_KEY_FILE: path });
      expect(err.variable).toBe('HANDOFF_VAULT_KEY_FILE');
      expect(err.message).toContain(
        `which its group or others may read (mode 0${mode.toString(8)}): run chmod 600 ${path}`,
      );
      expect(err.message).not.toContain(b64(keyB));
    },
  );

  it('accepts a key file only its owner may read (0400, 0600)', async () => {
    for (const mode of [0o400, 0o600]) {
      const config = loadConfig({
        ...base,
        HANDOFF_VAULT_KEY: undefined,
        HANDOFF_VAULT_KEY_FILE: await secretFile('owner', b64(keyB), mode),
      });
      expect(config.vaultKey?.equals(keyB)).toBe(true);
    }
  });

  it('never echoes a bad secret read from a file', async () => {
    const bad = randomBytes(20).toString('base64');
    const err = configError({
      ...base,
      HANDOFF_VAULT_KEY: undefined,
      HANDOFF_VAULT_KEY_FILE: await secretFile('bad', bad),
    });
    expect(err.variable).toBe('HANDOFF_VAULT_KEY');
    expect(err.message).not.toContain(bad);
  });

  it('the CLI reads HANDOFF_API_TOKEN_FILE too', async () => {
    const bridge = await startTestBridge('token-file');
    try {
      const { io, out, err } = capture();
      const cliIo = { out: io.out, err: io.err, interactive: false };
      const code = await runCli(
        ['status', '--json'],
        { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN_FILE: await secretFile('cli', `${bridge.apiToken}\n`) },
        cliIo,
      );
      expect(err).toEqual([]);
      expect(code).toBe(0);
      expect(JSON.parse(out[0]!)).toHaveProperty('handoffs');
      const loose = await secretFile('cli-loose', bridge.apiToken, 0o644);
      expect(await runCli(['status'], { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN_FILE: loose }, cliIo)).toBe(2);
      expect(err.join('\n')).toContain(`chmod 600 ${loose}`);
    } finally {
      await bridge.close();
    }
  });
});
