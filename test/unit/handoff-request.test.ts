import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import { parseHandoffRequest, parseServiceUrl } from '../../src/engine/handoff-request.js';

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
  it('fills in empty approvers and scopes', () => {
    expect(parseHandoffRequest(minimal)).toEqual({ ...minimal, approvers: [], scopes: [] });
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
    { body: { ...minimal, agent: {} }, field: 'agent.id', says: 'expected string' },
    { body: { ...minimal, agent: { id: '   ' } }, field: 'agent.id', says: '' },
    { body: { service: minimal.service, thread: minimal.thread }, field: 'agent', says: '' },
    { body: { thread: minimal.thread, agent: minimal.agent }, field: 'service', says: 'expected string' },
    { body: { ...minimal, thread: 42 }, field: 'thread', says: 'expected string' },
    { body: { ...minimal, thread: 'x'.repeat(513) }, field: 'thread', says: '' },
    { body: { ...minimal, scopes: 'account:read projects:read' }, field: 'scopes', says: 'expected array' },
    { body: { ...minimal, scopes: ['account:read', 3] }, field: 'scopes.1', says: 'expected string' },
    { body: { ...minimal, approvers: 'alice' }, field: 'approvers', says: 'expected array' },
    { body: { ...minimal, approvers: ['alice', ''] }, field: 'approvers.1', says: '' },
    { body: { ...minimal, approvers: Array.from({ length: 51 }, (_, i) => `u${i}`) }, field: 'approvers', says: '' },
    { body: { ...minimal, approverEmail: 'alice at example' }, field: 'approverEmail', says: 'email' },
    { body: { ...minimal, protocol: 'oauth2' }, field: 'protocol', says: 'agent-sessions' },
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

  it.each([{ id: 'job-1', queue: 'reports' }, { id: 'job-1' }, null, 'reports:1'])('refuses parentJob (%j) with invalid_parent_job: the bridge no longer attaches to agents\' jobs', (parentJob) => {
    const err = badInput(() => parseHandoffRequest({ ...minimal, parentJob }));
    expect(err.code).toBe('invalid_parent_job');
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ field: 'parentJob' });
    expect(err.message).toContain('requireLogin()');
  });

  it.each([null, undefined, 'service=x', 42, [minimal]])('rejects a body that is not an object: %j', (body) => {
    const err = badInput(() => parseHandoffRequest(body));
    expect(err.code).toBe('invalid_request');
    expect(err.details).toEqual({ field: 'body' });
  });
});

describe('parseServiceUrl', () => {
  it.each([
    ['https://api.example.com', true, 'https://api.example.com'],
    ['https://api.example.com/', true, 'https://api.example.com'],
    ['https://api.example.com/v1/', true, 'https://api.example.com/v1'],
    ['https://api.example.com/v1#section', true, 'https://api.example.com/v1'],
    ['HTTPS://API.Example.com/v1', true, 'https://api.example.com/v1'],
    ['http://localhost:4010', true, 'http://localhost:4010'],
    ['http://127.0.0.1:4010/api/', true, 'http://127.0.0.1:4010/api'],
    ['http://[::1]:4010/', true, 'http://[::1]:4010'],
    ['http://api.example.com/', false, 'http://api.example.com'],
    ['http://10.0.0.5:8080/api', false, 'http://10.0.0.5:8080/api'],
  ] as const)('%s (production: %s) → %s', (value, production, url) => {
    expect(parseServiceUrl(value, production)).toBe(url);
  });

  it.each([
    ['http://api.example.com', true, 'must use https'],
    ['http://localhost.evil.example', true, 'must use https'],
    ['ftp://api.example.com', false, 'must use https'],
    ['file:///etc/passwd', false, 'must use https'],
    ['javascript:alert(1)', false, 'must use https'],
    ['https://user:hunter2@api.example.com', true, 'must not contain credentials'],
    ['https://token@api.example.com', false, 'must not contain credentials'],
    ['http://user:pw@localhost:4010', true, 'must not contain credentials'],
    ['api.example.com', false, 'is not an absolute URL'],
    ['not a url', true, 'is not an absolute URL'],
    ['', false, 'is not an absolute URL'],
  ] as const)('rejects %s (production: %s): %s', (value, production, says) => {
    const err = badInput(() => parseServiceUrl(value, production));
    expect(err.code).toBe('invalid_service_url');
    expect(err.details).toEqual({ field: 'service' });
    expect(err.message).toContain(says);
  });

  it('never repeats the password from a URL in its error', () => {
    expect(badInput(() => parseServiceUrl('https://user:hunter2@api.example.com', true)).message).not.toContain('hunter2');
    expect(badInput(() => parseServiceUrl('http://user:hunter2@api.example.com', true)).message).not.toContain('hunter2');
  });
});
