import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { createNetworkPolicy } from '../../src/core/network-policy.js';
import { checkApprovalLink } from '../../src/engine/approval-link.js';
import { checkDiscoveredUrl, servicePath } from '../../src/login/discovered-url.js';

const production = createNetworkPolicy({ production: true });
const development = createNetworkPolicy({ production: false });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HandoffError);
    return (err as HandoffError).code;
  }
  return 'ok';
}

describe('approval links', () => {
  it.each([
    [production, 'https://login.example.com/approve', 'https://api.example.com', undefined, 'ok'],
    [production, 'https://example.com/approve', 'https://api.example.com', undefined, 'ok'],
    [
      production,
      'https://id.provider.example/approve',
      'https://api.example.com',
      'https://auth.provider.example',
      'ok',
    ],
    [
      production,
      'https://evil.example/approve',
      'https://api.example.com',
      'https://auth.provider.example',
      'unsafe_approval_url',
    ],
    [production, 'https://accounts.google.com/signin', 'https://login.evil.example', undefined, 'unsafe_approval_url'],
    [production, 'http://login.example.com/approve', 'https://api.example.com', undefined, 'unsafe_approval_url'],
    [production, 'javascript:alert(1)', 'https://api.example.com', undefined, 'unsafe_approval_url'],
    [production, 'JaVaScRiPt:alert(1)', 'https://api.example.com', undefined, 'unsafe_approval_url'],
    [
      production,
      'data:text/html,<script>alert(1)</script>',
      'https://api.example.com',
      undefined,
      'unsafe_approval_url',
    ],
    [production, 'https://user:pw@login.example.com/', 'https://api.example.com', undefined, 'unsafe_approval_url'],
    [production, 'not a url', 'https://api.example.com', undefined, 'unsafe_approval_url'],
    [development, 'http://127.0.0.1:8080/sandbox/authorize/x', 'http://127.0.0.1:8080/sandbox', undefined, 'ok'],
    [development, 'http://127.0.0.2:8080/approve', 'http://127.0.0.1:8080/sandbox', undefined, 'unsafe_approval_url'],
    [development, 'http://localhost:8080/approve', 'http://127.0.0.1:8080/sandbox', undefined, 'unsafe_approval_url'],
  ])('%#: %s for %s', (policy, link, service, authorizationServer, expected) => {
    expect(
      codeOf(() =>
        checkApprovalLink(
          { approvalUrl: link, ...(authorizationServer ? { authorizationServer } : {}) },
          service,
          policy,
        ),
      ),
    ).toBe(expected);
  });

  it('says what was wrong without repeating the link', () => {
    try {
      checkApprovalLink(
        { approvalUrl: 'https://phish.example/steal?token=abc' },
        'https://api.example.com',
        production,
      );
    } catch (err) {
      expect((err as Error).message).toContain('https://api.example.com');
      expect((err as Error).message).not.toContain('phish');
      return;
    }
    throw new Error('accepted');
  });
});

describe('discovered URLs and protocol paths', () => {
  it.each([
    ['https://auth.example.com/token', ['https://api.example.com'], 'ok'],
    ['https://evil.example/token', ['https://api.example.com'], 'metadata_cross_site'],
    ['https://other.example/token', ['https://api.example.com', 'https://login.other.example'], 'ok'],
    ['http://auth.example.com/token', ['https://api.example.com'], 'metadata_insecure_url'],
    ['https://169.254.169.254/token', ['https://api.example.com'], 'service_address_not_allowed'],
    ['nonsense', ['https://api.example.com'], 'metadata_invalid'],
  ])('%s against %j → %s', (url, anchors, expected) => {
    expect(codeOf(() => checkDiscoveredUrl(url, anchors, production, 'token endpoint'))).toBe(expected);
  });

  it.each([
    ['https://api.example.com', ['agent-sessions', 'start'], 'https://api.example.com/agent-sessions/start'],
    ['https://api.example.com/v1/', ['agent-sessions', 'start'], 'https://api.example.com/v1/agent-sessions/start'],
    ['https://api.example.com/x?a=1#f', ['agent-sessions', 'start'], 'https://api.example.com/x/agent-sessions/start'],
    ['https://api.example.com/x', ['a?b', 'c#d'], 'https://api.example.com/x/a%3Fb/c%23d'],
  ])('servicePath(%s, %j) = %s', (base, segments, expected) => {
    expect(servicePath(base, ...segments)).toBe(expected);
  });
});
