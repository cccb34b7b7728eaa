import { describe, expect, it } from 'vitest';
import { createNetworkPolicy } from '../../src/core/network-policy.js';
import { BadInputError } from '../../src/core/errors.js';
import { parseHandoffRequest, parseServiceUrl, resolveAgent } from '../../src/engine/handoff-request.js';

const minimal = { service: 'https://api.example.com', thread: 'local:demo', agent: { id: 'agent-1' } };

/** The BadInputError `fn` throws (fails the test when it throws nothing or something else). */
function badInput(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return err as BadInputError;
  }
  throw new Error('expected a BadInputError');
}

describe('parseHandoffRequest', () => {
  it('fills in empty approvers and scopes, and reuse "never"', () => {
    expect(parseHandoffRequest(minimal)).toEqual({ ...minimal, approvers: [], scopes: [], reuse: 'never' });
  });

  it('keeps every known field and trims text', () => {
    const full = {
      service: '  https://api.example.com  ',
      protocol: 'agent-sessions',
      thread: ' slack:C0123ABCD/1700000000.000100 ',
      approvers: ['alice', ' @bob '],
      approverEmail: 'alice@example.com',
      agent: { id: 'agent-1', correlationId: 'run-42' },
      scopes: ['account:read', 'projects:write'],
      expiresInMs: 600_000,
      idempotencyKey: 'deploy-42',
      label: 'nightly report',
      reuse: 'thread',
    };
    expect(parseHandoffRequest(full)).toEqual({
      ...full,
      service: 'https://api.example.com',
      thread: 'slack:C0123ABCD/1700000000.000100',
      approvers: ['alice', '@bob'],
    });
  });

  it.each([
    { body: { ...minimal, foo: 1 }, field: 'foo', says: 'is not a known field' },
    { body: { ...minimal, agent: { id: 'a', name: 'x' } }, field: 'agent.name', says: 'is not a known field' },
    { body: { ...minimal, agent: { id: '   ' } }, field: 'agent.id', says: '' },
    { body: { thread: minimal.thread, agent: minimal.agent }, field: 'service', says: 'expected string' },
    { body: { ...minimal, thread: 42 }, field: 'thread', says: 'expected string' },
    { body: { ...minimal, thread: 'x'.repeat(513) }, field: 'thread', says: '' },
    { body: { ...minimal, scopes: 'account:read projects:read' }, field: 'scopes', says: 'expected array' },
    { body: { ...minimal, scopes: ['account:read', 3] }, field: 'scopes.1', says: 'expected string' },
    { body: { ...minimal, approvers: 'alice' }, field: 'approvers', says: 'expected array' },
    { body: { ...minimal, approvers: ['alice', ''] }, field: 'approvers.1', says: '' },
    { body: { ...minimal, approvers: Array.from({ length: 51 }, (_, i) => `u${i}`) }, field: 'approvers', says: '' },
    { body: { ...minimal, approverEmail: 'alice at example' }, field: 'approverEmail', says: 'email' },
    { body: { ...minimal, reuse: 'always' }, field: 'reuse', says: '"agent"|"thread"|"never"' },
    // Only the shape is the schema's: which names exist is the registry's (the engine refuses others).
    { body: { ...minimal, protocol: 'OAuth 2!' }, field: 'protocol', says: 'name of a login protocol' },
    { body: { ...minimal, protocol: '<b>x</b>' }, field: 'protocol', says: 'name of a login protocol' },
    { body: { ...minimal, protocol: 'a'.repeat(41) }, field: 'protocol', says: 'name of a login protocol' },
    { body: { ...minimal, expiresInMs: -1 }, field: 'expiresInMs', says: '' },
    { body: { ...minimal, expiresInMs: 1.5 }, field: 'expiresInMs', says: 'int' },
    { body: { ...minimal, expiresInMs: '30m' }, field: 'expiresInMs', says: 'expected number' },
  ])('names "$field" for a bad $field', ({ body, field, says }) => {
    const err = badInput(() => parseHandoffRequest(body));
    expect(err.code).toBe('invalid_request');
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ field });
    expect(err.message).toContain(`Field "${field}"`);
    expect(err.message).toContain(says);
    expect(err.message).not.toMatch(/Invalid input:/);
  });

  it.each([{ id: 'job-1', queue: 'reports' }, { id: 'job-1' }, null, 'reports:1'])(
    "refuses parentJob (%j) with invalid_parent_job: the bridge no longer attaches to agents' jobs",
    (parentJob) => {
      const err = badInput(() => parseHandoffRequest({ ...minimal, parentJob }));
      expect(err.code).toBe('invalid_parent_job');
      expect(err.status).toBe(400);
      expect(err.details).toEqual({ field: 'parentJob' });
      expect(err.message).toContain('requireLogin()');
    },
  );

  it.each([null, undefined, 'service=x', 42, [minimal]])('rejects a body that is not an object: %j', (body) => {
    const err = badInput(() => parseHandoffRequest(body));
    expect(err.code).toBe('invalid_request');
    expect(err.details).toEqual({ field: 'body' });
  });
});

const policy = (production: boolean) => createNetworkPolicy({ production });

describe('parseServiceUrl', () => {
  it.each([
    ['https://api.example.com', true, 'https://api.example.com'],
    ['https://api.example.com/', true, 'https://api.example.com'],
    ['https://api.example.com/v1/', true, 'https://api.example.com/v1'],
    ['HTTPS://API.Example.com/v1', true, 'https://api.example.com/v1'],
    ['https://8.8.8.8/api', true, 'https://8.8.8.8/api'],
    ['http://localhost:4010', false, 'http://localhost:4010'],
    ['http://127.0.0.1:4010/api/', false, 'http://127.0.0.1:4010/api'],
    ['http://[::1]:4010/', false, 'http://[::1]:4010'],
    // A name is judged again, address by address, when the bridge connects.
    ['http://api.example.com/', false, 'http://api.example.com'],
  ] as const)('%s (production: %s) → %s', (value, production, url) => {
    expect(parseServiceUrl(value, policy(production))).toBe(url);
  });

  it.each([
    ['http://api.example.com', true, 'invalid_service_url', 'must use https'],
    ['http://localhost.evil.example', true, 'invalid_service_url', 'must use https'],
    ['ftp://api.example.com', false, 'invalid_service_url', 'must use https'],
    ['file:///etc/passwd', false, 'invalid_service_url', 'must use https'],
    ['javascript:alert(1)', false, 'invalid_service_url', 'must use https'],
    ['https://user:hunter2@api.example.com', true, 'invalid_service_url', 'must not contain credentials'],
    ['https://token@api.example.com', false, 'invalid_service_url', 'must not contain credentials'],
    ['http://user:pw@localhost:4010', true, 'invalid_service_url', 'must not contain credentials'],
    ['api.example.com', false, 'invalid_service_url', 'is not an absolute URL'],
    ['not a url', true, 'invalid_service_url', 'is not an absolute URL'],
    ['', false, 'invalid_service_url', 'is not an absolute URL'],
    // A query or fragment would turn the protocol's path into a query on a path the agent chose.
    ['https://api.example.com/v1#section', true, 'service_url_has_query', 'must not have a query'],
    ['https://evil.example/admin/delete?', true, 'service_url_has_query', 'must not have a query'],
    ['https://evil.example/admin/delete?x=', true, 'service_url_has_query', 'must not have a query'],
    ['http://127.0.0.1:4010/x#', false, 'service_url_has_query', 'must not have a query'],
    // Internal addresses in any spelling.
    ['http://localhost:4010', true, 'invalid_service_url', 'must use https'],
    ['https://127.0.0.1:4010', true, 'service_address_not_allowed', 'loopback'],
    ['https://127.1', true, 'service_address_not_allowed', 'loopback'],
    ['https://2130706433', true, 'service_address_not_allowed', 'loopback'],
    ['https://0x7f000001', true, 'service_address_not_allowed', 'loopback'],
    ['https://0177.0.0.1', true, 'service_address_not_allowed', 'loopback'],
    ['https://[::ffff:7f00:1]', true, 'service_address_not_allowed', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', true, 'service_address_not_allowed', 'link-local'],
    ['https://0xa9fea9fe', false, 'service_address_not_allowed', 'link-local'],
    ['http://10.0.0.5:8080/api', false, 'service_address_not_allowed', 'HANDOFF_ALLOW_PRIVATE_NETWORKS'],
    ['https://192.168.1.1', true, 'service_address_not_allowed', 'HANDOFF_ALLOWED_SERVICES'],
    ['http://0.0.0.0:8080', false, 'service_address_not_allowed', 'never calls'],
  ] as const)('rejects %s (production: %s): %s', (value, production, code, says) => {
    const err = badInput(() => parseServiceUrl(value, policy(production)));
    expect(err.code).toBe(code);
    expect(err.details).toEqual({ field: 'service' });
    expect(err.message).toContain(says);
  });

  it('never repeats the password from a URL in its error', () => {
    expect(badInput(() => parseServiceUrl('https://user:hunter2@api.example.com', policy(true))).message).not.toContain(
      'hunter2',
    );
    expect(badInput(() => parseServiceUrl('http://user:hunter2@api.example.com', policy(true))).message).not.toContain(
      'hunter2',
    );
  });
});

describe("resolveAgent: the request's agent comes from the caller", () => {
  const agent = { kind: 'agent', agentId: 'agent-1' } as const;
  const admin = { kind: 'admin' } as const;
  const parse = (extra: object) => parseHandoffRequest({ service: minimal.service, thread: minimal.thread, ...extra });

  it("fills in an agent key's own id, keeping the correlation id", () => {
    expect(resolveAgent(parse({}), agent)).toMatchObject({ agent: { id: 'agent-1' } });
    expect(resolveAgent(parse({ agent: { correlationId: 'run-1' } }), agent)).toMatchObject({
      agent: { id: 'agent-1', correlationId: 'run-1' },
    });
    expect(resolveAgent(parse({ agent: { id: 'agent-1' } }), agent)).toMatchObject({ agent: { id: 'agent-1' } });
  });

  it('reports another id named with an agent key as a mismatch', () => {
    expect(resolveAgent(parse({ agent: { id: 'agent-2' } }), agent)).toEqual({ mismatch: 'agent-2' });
    expect(resolveAgent(parse({ agent: { id: 'Agent-1' } }), agent)).toEqual({ mismatch: 'Agent-1' });
  });

  it('takes the id the admin token names, and requires one', () => {
    expect(resolveAgent(parse({ agent: { id: 'anyone at all' } }), admin)).toMatchObject({
      agent: { id: 'anyone at all' },
    });
    for (const extra of [{}, { agent: {} }, { agent: { correlationId: 'x' } }]) {
      const err = badInput(() => resolveAgent(parse(extra), admin));
      expect(err.details).toEqual({ field: 'agent.id' });
      expect(err.message).toContain('Field "agent.id"');
    }
  });
});
