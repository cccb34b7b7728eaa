import { describe, expect, it } from 'vitest';
import { loadHandoffConfig as loadConfigAsIs } from '../../src/main.js';
import { ConfigError } from '../../src/core/errors.js';
import { matchesOriginGlob, parseOriginGlob, type OriginGlob } from '../../src/core/origin-glob.js';
import {
  bindServiceApproval,
  directoryVouchesFor,
  emailForService,
  maskedEmail,
  vouchingApprover,
} from '../../src/engine/approver-binding.js';

/** Development unless the test says otherwise (the schema defaults to production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const globs = (...list: string[]) =>
  list.map((g) => parseOriginGlob(g)).filter((g): g is OriginGlob => g !== undefined);

describe('origin globs (HANDOFF_APPROVER_EMAIL_SERVICES)', () => {
  it('match scheme, host and port exactly; *. matches subdomains only', () => {
    const list = globs('https://notes.example.com', 'https://*.corp.example', 'http://127.0.0.1:8080');
    expect(matchesOriginGlob(list, 'https://notes.example.com/api')).toBe(true);
    expect(matchesOriginGlob(list, 'https://notes.example.com:443/api')).toBe(true);
    expect(matchesOriginGlob(list, 'https://a.b.corp.example')).toBe(true);
    expect(matchesOriginGlob(list, 'http://127.0.0.1:8080/sandbox')).toBe(true);
    for (const url of [
      'http://notes.example.com',
      'https://notes.example.com:8443',
      'https://corp.example',
      'https://evilcorp.example',
      'https://notes.example.com.evil.example',
      'http://127.0.0.1:8081',
      'not a url',
    ]) {
      expect(matchesOriginGlob(list, url), url).toBe(false);
    }
  });

  it('refuses a catch-all or anything that is not an origin, naming the variable', () => {
    for (const bad of [
      '*',
      'https://*',
      'notes.example.com',
      'https://notes.example.com/path',
      'ftp://x.example',
      'https://a*.example.com',
    ]) {
      expect(parseOriginGlob(bad), bad).toBeUndefined();
    }
    expect(() => loadConfig({ HANDOFF_APPROVER_EMAIL_SERVICES: 'https://ok.example,*' })).toThrow(ConfigError);
    expect(() => loadConfig({ HANDOFF_APPROVER_EMAIL_SERVICES: '*' })).toThrow(/HANDOFF_APPROVER_EMAIL_SERVICES/);
    expect(
      loadConfig({ HANDOFF_APPROVER_EMAIL_SERVICES: ' https://ok.example , https://*.corp.example ' }).login
        .approverEmailServices,
    ).toEqual(['https://ok.example', 'https://*.corp.example']);
  });
});

describe('which email a service may be sent', () => {
  const ceo = { id: 'U0CEO', email: 'ceo@corp.example' };
  it('the request’s own email always; a directory email only when named or allowed', () => {
    expect(
      emailForService(
        { approverEmail: 'a@x.example', approvers: ['@ceo'], service: 'https://evil.example' },
        [ceo],
        [],
      ),
    ).toEqual({ email: 'a@x.example', withheld: false });
    expect(emailForService({ approvers: ['@ceo'], service: 'https://evil.example' }, [ceo], [])).toEqual({
      withheld: true,
    });
    expect(emailForService({ approvers: ['CEO@corp.example'], service: 'https://evil.example' }, [ceo], [])).toEqual({
      email: ceo.email,
      withheld: false,
    });
    expect(
      emailForService(
        { approvers: ['@ceo'], service: 'https://notes.corp.example' },
        [ceo],
        ['https://*.corp.example'],
      ),
    ).toEqual({ email: ceo.email, withheld: false });
    expect(emailForService({ approvers: ['@bob'], service: 'https://evil.example' }, [{ id: 'U0BOB' }], [])).toEqual({
      withheld: false,
    });
  });
});

describe('binding a service’s approval to the approvers', () => {
  const named = { approvers: ['U0ALICE'], approverEmails: ['alice@corp.example'] };
  it('bound when the service names an approver’s email, other when someone else, unknown when it cannot be told', () => {
    expect(bindServiceApproval(named, { source: 'poll', email: 'alice@corp.example' }, 'anyone')).toBe('bound');
    expect(bindServiceApproval(named, { source: 'poll', email: 'mallory@evil.example' }, 'anyone')).toBe('other');
    expect(bindServiceApproval(named, { source: 'poll', subject: 'alice@corp.example' }, 'anyone')).toBe('unknown'); // a subject is never matched
    expect(bindServiceApproval(named, undefined, 'anyone')).toBe('unknown');
    expect(
      bindServiceApproval({ approvers: ['alice'] }, { source: 'poll', email: 'alice@corp.example' }, 'anyone'),
    ).toBe('unknown');
    expect(
      bindServiceApproval(
        { approvers: ['alice'], approverEmail: 'Alice@Corp.example' },
        { source: 'id_token', email: 'alice@corp.example' },
        'anyone',
      ),
    ).toBe('bound');
  });

  it('without named approvers: anyone in the thread means anyone’s approval; a platform rule means a word is needed', () => {
    expect(bindServiceApproval({ approvers: [] }, { source: 'poll', email: 'x@y.example' }, 'anyone')).toBe('bound');
    expect(bindServiceApproval({ approvers: [] }, { source: 'poll', email: 'x@y.example' }, 'platform_rule')).toBe(
      'unknown',
    );
  });

  it('an approver’s "done" vouches for two minutes', () => {
    expect(vouchingApprover({ confirmedBy: 'alice', confirmedAt: 1_000 }, 1_000 + 120_000)).toBe('alice');
    expect(vouchingApprover({ confirmedBy: 'alice', confirmedAt: 1_000 }, 1_000 + 120_001)).toBeUndefined();
    expect(vouchingApprover({}, 0)).toBeUndefined();
  });

  it('masks the account the thread is shown, and shows nothing of a hostile one', () => {
    expect(maskedEmail('mallory@evil.example')).toBe('m***@evil.example');
    expect(maskedEmail('*x@evil.example')).toBe('****@evil.example');
    expect(maskedEmail('m@[evil](https://x)')).toBeUndefined();
    expect(maskedEmail(undefined)).toBeUndefined();
  });
});

describe('whether the directory vouches for the approver’s email (ID-JAG subjects)', () => {
  const ida = { id: 'U0IDA', email: 'Ida@Corp.example' };
  it('only for the one named approver’s own directory email, never for the agent’s word alone', () => {
    expect(directoryVouchesFor([ida], 'ida@corp.example')).toBe(true);
    expect(directoryVouchesFor([ida], 'ceo@corp.example')).toBe(false);
    expect(directoryVouchesFor([{ id: 'U0BOB' }], 'bob@corp.example')).toBe(false);
    expect(directoryVouchesFor([ida, { id: 'U0CEO', email: 'ceo@corp.example' }], 'ida@corp.example')).toBe(false);
    expect(directoryVouchesFor([ida], undefined)).toBe(false);
  });
});
