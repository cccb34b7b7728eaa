import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseRedisTarget, redactUrl } from '../../src/core/redis-target.js';
import { loadHandoffConfig } from '../../src/main.js';

/** REDIS_URL names one server or a Redis Cluster (src/core/redis-target.ts). */
describe('REDIS_URL for one server or a Redis Cluster', () => {
  it('reads a cluster URL: seed nodes (IPv6 too, 6379 by default), user and password (decoded), TLS', () => {
    expect(parseRedisTarget('redis+cluster://10.0.0.1:7000,redis-b,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisTarget('rediss+cluster://app:p%40ss:word@h1:7000/')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'h1', port: 7000 }],
      username: 'app',
      password: 'p@ss:word',
      tls: true,
    });
    expect(parseRedisTarget('redis://h:6379/2')).toEqual({ kind: 'single', url: 'redis://h:6379/2' });
  });

  it.each([
    'redis+cluster://',
    'redis+cluster://h1:7000,,h2:7001',
    'redis+cluster://h1:0',
    'redis+cluster://h1:7000/2',
    'redis+cluster://h1:7000?x=1',
    'redis+cluster://h 1:7000',
  ])('refuses %s with a ConfigError naming REDIS_URL and the shape', (url) => {
    let caught: unknown;
    try {
      parseRedisTarget(url);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe('REDIS_URL');
    expect((caught as Error).message).toContain('redis+cluster://host1:7000,host2:7001');
  });

  it('never shows the password in messages', () => {
    expect(redactUrl('redis+cluster://app:hunter2-secret@h1:7000,h2:7001')).toBe(
      'redis+cluster://app:***@h1:7000,h2:7001',
    );
    expect(redactUrl('rediss+cluster://:hunter2-secret@h1:7000')).toBe('rediss+cluster://:***@h1:7000');
    expect(redactUrl('redis://:hunter2-secret@h1:6379')).not.toContain('hunter2');
    // An '@' left unencoded in the password hides nothing of it either.
    expect(redactUrl('redis+cluster://app:hun@ter2@h1:7000,h2:7001')).toBe('redis+cluster://app:***@h1:7000,h2:7001');
  });

  it('the config accepts the cluster form as REDIS_URL', () => {
    const config = loadHandoffConfig({
      NODE_ENV: 'development',
      REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
    });
    expect(config.redisUrl).toBe('redis+cluster://127.0.0.1:7000,127.0.0.1:7001');
  });
});
