import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAgentKey, hashAgentKey, isAgentKey, isAgentKeyHash } from '../../src/core/agent-keys.js';
import { loadHandoffConfig as loadConfigAsIs } from '../../src/main.js';
import { ConfigError } from '../../src/core/errors.js';
import { maskSecrets } from '../../src/core/secret-patterns.js';
import { parseAgentsFile } from '../../src/store/agents-file.js';

/** Development unless the test says otherwise (the schema defaults to production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const production = {
  NODE_ENV: 'production',
  HANDOFF_VAULT_KEY: randomBytes(32).toString('base64'),
  HANDOFF_API_TOKEN: 'k3J9x2PqLm8sVt4wZr7nYb5c',
  REDIS_URL: 'redis://redis.internal:6379/0',
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('no ConfigError was thrown');
}

describe('agent settings in the one config schema', () => {
  it('reads limits, credential lifetimes and the audit sink; stdout is the production default', () => {
    const config = loadConfig({
      HANDOFF_AGENT_MAX_OPEN_HANDOFFS: '5',
      HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE: '7',
      HANDOFF_CREDENTIAL_MAX_AGE_MS: '0',
      HANDOFF_CREDENTIAL_IDLE_MS: '3600000',
      HANDOFF_AUDIT_SINK: 'file:/var/log/handoff/audit.jsonl',
      HANDOFF_AGENTS_FILE: 'agents.yaml',
    });
    expect(config.agents).toEqual({
      file: 'agents.yaml',
      limits: { maxOpenHandoffs: 5, maxHandoffsPerMinute: 7 },
      credentialMaxAgeMs: 0,
      credentialIdleMs: 3_600_000,
      auditSink: { kind: 'file', path: '/var/log/handoff/audit.jsonl' },
    });
    expect(loadConfig(production).agents.auditSink).toEqual({ kind: 'stdout' });
    expect(loadConfig({ ...production, HANDOFF_AUDIT_SINK: 'off' }).agents.auditSink).toEqual({ kind: 'off' });
  });

  it.each([
    ['HANDOFF_AGENT_MAX_OPEN_HANDOFFS', '0', 'whole number from 1'],
    ['HANDOFF_AGENT_MAX_HANDOFFS_PER_MINUTE', 'lots', 'whole number from 1'],
    ['HANDOFF_CREDENTIAL_IDLE_MS', '7d', 'milliseconds'],
    ['HANDOFF_AUDIT_SINK', 'syslog', 'stdout, file:<path>'],
    ['HANDOFF_AUDIT_SINK', 'file:', 'stdout, file:<path>'],
    ['HANDOFF_CREDENTIAL_MAX_AGE', '30d', 'use HANDOFF_CREDENTIAL_MAX_AGE_MS'],
    ['HANDOFF_CREDENTIAL_IDLE', '7d', 'use HANDOFF_CREDENTIAL_IDLE_MS'],
  ])('%s=%s stops start-up naming the variable', (name, value, words) => {
    const err = configError(() => loadConfig({ [name]: value }));
    expect(err.variable).toBe(name);
    expect(err.message).toContain(words);
  });
});

describe('agent keys', () => {
  it('are random, recognisable, masked in logs, and hashed the way the agents file expects', () => {
    const key = generateAgentKey();
    expect(isAgentKey(key)).toBe(true);
    expect(generateAgentKey()).not.toBe(key);
    expect(maskSecrets(`token ${key} used`)).toBe('token [redacted] used');
    expect(isAgentKeyHash(hashAgentKey(key))).toBe(true);
    expect(hashAgentKey(key)).toBe(hashAgentKey(key));
    expect(hashAgentKey(key)).not.toContain(key.slice(4));
  });
});

describe('HANDOFF_AGENTS_FILE', () => {
  const hash = hashAgentKey(generateAgentKey());
  const other = hashAgentKey(generateAgentKey());

  it('reads YAML and JSON, as a list or under "agents"', () => {
    const yaml = `agents:\n  - id: deploy-bot\n    keyHash: ${hash}\n    services: ["https://*.Example.com"]\n    threads: ["GitHub:acme/*"]\n    maxOpenHandoffs: 3\n`;
    expect(parseAgentsFile(yaml, 'agents.yaml')).toEqual([
      {
        id: 'deploy-bot',
        keyHash: hash,
        policy: { services: ['https://*.example.com'], threads: ['github:acme/*'], maxOpenHandoffs: 3 },
      },
    ]);
    const json = JSON.stringify([
      { id: 'a', keyHash: hash },
      { id: 'b', keyHash: other, approvers: ['alice'] },
    ]);
    expect(parseAgentsFile(json, 'agents.json').map((a) => a.id)).toEqual(['a', 'b']);
  });

  it.each([
    ['not YAML at all', 'agents: [ {', 'is neither JSON nor YAML'],
    ['no list', 'agents: 3', 'must hold a list of agents'],
    [
      'a key instead of its hash',
      `- id: a\n  keyHash: ${generateAgentKey()}`,
      'entry 1 ("a"): field "keyHash" must be a key hash',
    ],
    [
      'a bad id in the second entry',
      `- id: a\n  keyHash: ${hash}\n- id: Bad Id\n  keyHash: ${other}`,
      'entry 2 ("Bad Id"): field "id"',
    ],
    [
      'a bad service glob',
      `- id: a\n  keyHash: ${hash}\n  services: ["https://x.com/path"]`,
      'entry 1 ("a"): field "services.0"',
    ],
    [
      'an unknown field',
      `- id: a\n  keyHash: ${hash}\n  role: admin`,
      'entry 1 ("a"): field "role" is not a known field',
    ],
    [
      'an id twice',
      `- id: a\n  keyHash: ${hash}\n- id: a\n  keyHash: ${other}`,
      'entry 2 ("a"): the id "a" is declared twice',
    ],
    [
      'a key hash twice',
      `- id: a\n  keyHash: ${hash}\n- id: b\n  keyHash: ${hash}`,
      'entry 2 ("b"): its keyHash is also another entry\'s',
    ],
  ])('%s stops start-up naming the variable and the entry', (_what, text, words) => {
    const err = configError(() => parseAgentsFile(text, '/etc/handoff/agents.yaml'));
    expect(err.variable).toBe('HANDOFF_AGENTS_FILE');
    expect(err.message).toContain('HANDOFF_AGENTS_FILE (/etc/handoff/agents.yaml)');
    expect(err.message).toContain(words);
  });
});
