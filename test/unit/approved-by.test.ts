import { describe, expect, it } from 'vitest';
import { approvedByFrom, serviceEmail } from '../../src/login/approved-by.js';

describe('reading who approved from a service answer', () => {
  it('takes a plausible email (lower-cased) and a printable subject', () => {
    expect(approvedByFrom({ email: ' Alice@Example.COM ', subject: 'acct_1' }, 'poll')).toEqual({
      source: 'poll',
      email: 'alice@example.com',
      subject: 'acct_1',
    });
    expect(approvedByFrom({ subject: 42 }, 'exchange')).toEqual({ source: 'exchange', subject: '42' });
  });

  it('drops hostile or unusable values instead of passing them on', () => {
    for (const bad of [
      '',
      'alice',
      'a@b',
      '<a@b.c>',
      'a b@c.d',
      'a@b.c\n@evil',
      `${'x'.repeat(250)}@example.com`,
      'alice@exa_mple.com',
      7,
      null,
      {},
      ['a@b.c'],
    ]) {
      expect(serviceEmail(bad)).toBeUndefined();
    }
    expect(approvedByFrom({ email: 'javascript:alert(1)', subject: 'has space' }, 'poll')).toBeUndefined();
    expect(approvedByFrom({ subject: 'x'.repeat(201) }, 'poll')).toBeUndefined();
    expect(approvedByFrom({ subject: 'U\u202eFAKE' }, 'poll')).toBeUndefined();
  });

  it('ignores an email the identity provider says is not verified (OIDC email_verified: false)', () => {
    expect(approvedByFrom({ email: 'alice@example.com', emailVerified: false, subject: 's1' }, 'id_token')).toEqual({
      source: 'id_token',
      subject: 's1',
    });
    expect(approvedByFrom({ email: 'alice@example.com', emailVerified: true }, 'id_token')?.email).toBe(
      'alice@example.com',
    );
  });
});
