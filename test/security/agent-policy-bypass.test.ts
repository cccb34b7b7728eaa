import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGithubThread } from '../../adapters/github/github-thread.js';
import { parseLinearThread } from '../../adapters/linear/linear-thread.js';
import { parseLocalThread } from '../../adapters/local/local-thread.js';
import { parseSlackThread } from '../../adapters/slack/slack-thread.js';
import { agentPolicySchema, checkPolicy, type AgentPolicy } from '../../src/core/agent-policy.js';
import { globMatch } from '../../src/core/glob.js';
import { parseServiceUrl } from '../../src/engine/handoff-request.js';
import { audited, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * An agent whose policy allows some services, threads and approvers tries to get outside it:
 * other hosts that look alike, case, trailing dots, userinfo, encoded characters, ports,
 * schemes, lookalike letters. The policy is checked on what the bridge will really use — the
 * service's URL origin and the adapter's canonical thread ref — so spelling tricks either
 * land on the same canonical value or fail.
 */
const policy = agentPolicySchema.parse({
  services: ['https://*.example.com', 'https://API.partner.com', 'http://127.0.0.1:*'],
  threads: ['github:Acme/*', 'slack:C0123*', 'linear:eng-*', 'local:ok-*'],
  approvers: ['alice', '@U0BOB'],
} satisfies AgentPolicy);

const ask = (service: string, thread: string, approvers: string[] = ['alice']) =>
  checkPolicy('tester', policy, {
    serviceOrigin: new URL(parseServiceUrl(service, developmentPolicy)).origin,
    thread,
    approvers,
    // What the GitHub and Linear adapters declare (refsIgnoreCase); Slack and local refs keep case.
    threadIgnoresCase: /^(?:github|linear):/.test(thread),
  })?.code;
const canonical = (ref: string) =>
  [parseGithubThread, parseSlackThread, parseLinearThread, parseLocalThread].find((_, i) =>
    ref.toLowerCase().startsWith(['github:', 'slack:', 'linear:', 'local:'][i]!),
  )!(ref).ref;

describe('the glob matcher', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything at all', true],
    ['a*', 'a', true],
    ['*.example.com', '.example.com', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['https://a.example.com', 'https://aXexample.com', false], // '.' is a dot, not "any character"
    ['a?c', 'abc', false], // '?' is itself
    ['a?c', 'a?c', true],
    ['[ab]', 'a', false],
    ['(a|b)', 'a', false],
    ['a\\*', 'a\\anything', true],
    ['abc', 'ABC', false],
  ])('%j against %j → %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('stays fast on the patterns that make backtracking matchers explode', () => {
    const started = performance.now();
    expect(globMatch(`${'a*'.repeat(50)}b`, 'a'.repeat(5_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('attack: services outside the policy', () => {
  it.each([
    'https://a.example.com',
    'https://deep.sub.example.com/path',
    'HTTPS://A.EXAMPLE.COM',
    'https://api.partner.com:443/v1',
    'https://api.PARTNER.com',
    'http://127.0.0.1:8080/sandbox',
  ])('allows %s', (service) => {
    expect(ask(service, 'local:ok-1')).toBeUndefined();
  });

  it.each([
    ['the bare parent domain', 'https://example.com'],
    ['a lookalike suffix', 'https://evilexample.com'],
    ['the domain as a subdomain of another', 'https://a.example.com.evil.com'],
    ['the domain in the path', 'https://evil.com/.example.com'],
    ['a backslash for a slash', 'https://evil.com\\.example.com'],
    ['an encoded dot', 'https://api.partner.com%2eevil.com'],
    ['a trailing dot', 'https://api.partner.com.'],
    ['another port', 'https://a.example.com:8443'],
    ['plain http', 'http://a.example.com'],
    ['a Cyrillic lookalike letter', 'https://аpi.partner.com'],
    ['another loopback address', 'http://127.0.0.2:8080'],
  ])('refuses %s', (_what, service) => {
    expect(ask(service, 'local:ok-1')).toBe('service_not_allowed');
  });

  it('refuses userinfo before the policy is even asked', () => {
    expect(() => ask('https://a.example.com@evil.com', 'local:ok-1')).toThrow(
      expect.objectContaining({ code: 'invalid_service_url' }),
    );
  });

  it.each([
    ['the domain in the query', 'https://evil.com?.example.com'],
    ['the domain in the fragment', 'https://evil.com#.example.com'],
  ])('refuses %s before the policy is even asked (a service URL has no query or fragment)', (_what, service) => {
    expect(() => ask(service, 'local:ok-1')).toThrow(expect.objectContaining({ code: 'service_url_has_query' }));
  });
});

describe('attack: threads outside the policy', () => {
  it.each([
    'github:ACME/Repo#1',
    'github:acme/x#2',
    'slack:C0123ABC/1700000000.000100',
    'slack:C0123/p1700000000000100',
    'linear:ENG-12',
    'linear:eng-12',
    'local:ok-1',
  ])('allows %s (canonical %s)', (ref) => {
    expect(ask('https://a.example.com', canonical(ref))).toBeUndefined();
  });

  it.each([
    ['another owner sharing the prefix', 'github:acme-evil/x#1'],
    ['another owner ending in it', 'github:evilacme/x#1'],
    ['another channel', 'slack:C0124ABC/1700000000.000100'],
    ['another team key that starts alike', 'linear:ENGX-1'],
    ['a local name in another case', 'local:OK-1'],
    ['a local name without the dash', 'local:ok'],
  ])('refuses %s', (_what, ref) => {
    expect(ask('https://a.example.com', canonical(ref))).toBe('thread_not_allowed');
  });

  it.each([
    'github:acme%2Fevil/x#1',
    'github:аcme/x#1',
    'local:ok-%41',
    'local:ok-1/../x',
    'linear:ENG-1%00',
    'slack:C0123ABC/1700000000.000100%2F',
  ])('never lets %s through: it is not a thread ref at all', (ref) => {
    expect(() => canonical(ref)).toThrow(expect.objectContaining({ code: 'invalid_thread_ref' }));
  });
});

describe('attack: approvers outside the policy', () => {
  it.each([[['alice']], [['@Alice']], [['ALICE', 'u0bob']]])('allows %j', (approvers) => {
    expect(ask('https://a.example.com', 'local:ok-1', approvers)).toBeUndefined();
  });

  it.each([
    ['nobody (anyone in the thread could answer)', []],
    ['a stranger among allowed ones', ['alice', 'mallory']],
    ['a lookalike letter', ['аlice']],
    ['a prefix', ['ali']],
  ])('refuses %s', (_what, approvers) => {
    expect(ask('https://a.example.com', 'local:ok-1', approvers)).toBe('approver_not_allowed');
  });
});

describe('attack: the policy over HTTP (403 with a specific code, nothing created, audited)', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('sec-policy');
    agent = await createTestAgent(bridge, 'fenced', {
      services: [new URL(bridge.url).origin],
      threads: ['local:fenced-*'],
      approvers: ['alice'],
    });
  });
  afterAll(async () => bridge.close());

  it.each([
    ['service_not_allowed', { service: 'http://127.0.0.2:9/sandbox', thread: 'local:fenced-a', approvers: ['alice'] }],
    ['thread_not_allowed', { service: '', thread: 'local:elsewhere', approvers: ['alice'] }],
    ['approver_not_allowed', { service: '', thread: 'local:fenced-b', approvers: ['mallory'] }],
    ['approver_not_allowed', { service: '', thread: 'local:fenced-c', approvers: [] }],
  ])('%s', async (code, body) => {
    const res = await agent.call('POST', '/v1/handoffs', { ...body, service: body.service || `${bridge.url}/sandbox` });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(/fenced/);
    expect(await bridge.bridge.engine.store.openInThread(body.thread)).toEqual([]);
    const [entry] = await audited(
      bridge,
      (e) => e.event === 'handoff.refused' && e.requestId === res.headers.get('x-request-id'),
    );
    expect(entry).toMatchObject({ actor: 'agent:fenced', agentId: 'fenced', detail: { code } });
  });

  it('inside the policy it works, and the admin token is not fenced', async () => {
    expect(
      (
        await agent.call('POST', '/v1/handoffs', {
          service: `${bridge.url}/sandbox`,
          thread: freshThread('fenced'),
          approvers: ['Alice'],
        })
      ).status,
    ).toBe(201);
    const asAdmin = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: 'local:elsewhere',
      agent: { id: 'fenced' },
    });
    expect(asAdmin.id).toMatch(/^hf_/);
  });
});
