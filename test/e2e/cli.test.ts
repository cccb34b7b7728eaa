import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffView } from '../../src/core/wire.js';
import {
  freePort,
  runCli,
  startBridgeProcess,
  startCli,
  stopAllProcesses,
  type BridgeProcess,
} from '../helpers/processes.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The `handoff` command as a person runs it: real processes for the bridge and every CLI
 * call, real Redis, the sandbox approval page over HTTP. Each case checks the documented
 * exit code (0 done, 1 error, 2 usage, 3 expired, 4 failed, 5 cancelled).
 */

const threadName = (label: string) => `cli-${label}-${randomBytes(4).toString('hex')}`;
const wrongCode = (n: number) => `aae_${String(n).repeat(48)}`;

function parseSingleJson(stdout: string): { handoff: HandoffView; credentialFile?: string } {
  const lines = stdout.trim().split('\n');
  expect(lines, `stdout should be one JSON line:\n${stdout}`).toHaveLength(1);
  return JSON.parse(lines[0]!) as { handoff: HandoffView; credentialFile?: string };
}

describe('the handoff CLI against a running bridge (real processes)', () => {
  let bridge: BridgeProcess;
  let workDir: string;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    // Every login here ends by what is typed into the thread: the background poll (which would
    // finish an approved login on its own after 10 s) is kept out of the race.
    [bridge, workDir] = await Promise.all([
      startBridgeProcess('cli', { HANDOFF_POLL_INTERVAL_MS: '600000' }),
      mkdtemp(join(tmpdir(), 'handoff-e2e-cli-')),
    ]);
    cliEnv = { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN: bridge.apiToken };
  });

  afterEach(async () => {
    // A failed case must not leave a login waiting.
    const leftovers = await stopAllProcesses([bridge?.proc]);
    expect(leftovers, 'every CLI process should have exited by the end of its test').toEqual([]);
  });

  afterAll(async () => {
    await stopAllProcesses();
    await bridge?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** Waits for the approval request in a local thread; returns its link and handoff id. */
  async function approvalIn(name: string): Promise<{ url: string; handoffId: string }> {
    const message = await waitFor(`approval request in local:${name}`, async () =>
      (await bridge.messages(name)).find((m) => m.kind === 'bot' && /\/sandbox\/authorize\//.test(m.text)),
    );
    return {
      url: /https?:\/\/\S+\/sandbox\/authorize\/\S+/.exec(message.text)![0],
      handoffId: /\(handoff (hf_[0-9a-f]+)\)/.exec(message.text)![1]!,
    };
  }

  async function handoffView(id: string): Promise<HandoffView> {
    const res = await fetch(`${bridge.url}/v1/handoffs/${id}`, {
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as HandoffView;
  }

  let completedId: string | undefined;

  it('login waits for the approver, exits 0 and writes a 0600 credential the service accepts', async () => {
    const name = threadName('ok');
    const out = join(workDir, 'cred.json');
    const login = startCli(
      'login-ok',
      [
        'login',
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        `local:${name}`,
        '--approver',
        'alice',
        '--agent-id',
        'e2e',
        '--scopes',
        'account:read',
        '--timeout',
        '2m',
        '--json',
        '--out',
        out,
      ],
      cliEnv,
    );

    const { url, handoffId } = await approvalIn(name);
    expect(login.exit(), 'login should still be waiting for the human').toBeUndefined();
    const code = await approveOnSandbox(url, 'alice@example.com');
    const replied = await runCli('reply-ok', ['reply', `local:${name}`, code, '--as', 'alice'], cliEnv);
    expect(replied.code, replied.proc.describe()).toBe(0);
    expect(replied.stdout.trim()).toBe('Sent.');

    const { code: exitCode } = await login.waitForExit(20_000);
    expect(exitCode, login.describe()).toBe(0);
    const result = parseSingleJson(login.stdout());
    expect(result.handoff).toMatchObject({
      id: handoffId,
      status: 'completed',
      thread: `local:${name}`,
      agent: { id: 'e2e' },
      scopes: ['account:read'],
    });
    expect(result.credentialFile).toBe(out);
    // Nothing secret on the terminal.
    expect(login.stdout() + login.stderr()).not.toContain(code);

    const info = await stat(out);
    expect(info.mode & 0o777).toBe(0o600);
    const cred = JSON.parse(await readFile(out, 'utf8')) as {
      accessToken: string;
      handoffId: string;
      tokenType: string;
      service: string;
    };
    expect(cred).toMatchObject({ handoffId, tokenType: 'Bearer', service: `${bridge.url}/sandbox` });
    expect(cred.accessToken).toMatch(/^aas_/);
    const me = await fetch(`${bridge.url}/sandbox/api/me`, {
      headers: { authorization: `Bearer ${cred.accessToken}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ account: { email: 'alice@example.com' }, scopes: ['account:read'] });
    completedId = handoffId;
  });

  it('status <id> --json prints the handoff record as JSON', async () => {
    let id = completedId;
    if (!id) {
      // Stand-alone run of this case: make a handoff to look at.
      const res = await fetch(`${bridge.url}/v1/handoffs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          service: `${bridge.url}/sandbox`,
          thread: `local:${threadName('st')}`,
          agent: { id: 'e2e' },
        }),
      });
      id = ((await res.json()) as { id: string }).id;
    }
    const result = await runCli('status', ['status', id, '--json'], cliEnv);
    expect(result.code, result.proc.describe()).toBe(0);
    const view = JSON.parse(result.stdout) as HandoffView;
    expect(view).toEqual(await handoffView(id));
    expect(view).toMatchObject({ id, agent: { id: 'e2e' } });
  });

  it('credentials lists without secrets; revoke revokes at the service and exits 0, then 1 for an unknown id', async () => {
    const name = threadName('revoke');
    const out = join(workDir, 'revoke.json');
    const login = startCli(
      'login-revoke',
      [
        'login',
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        `local:${name}`,
        '--agent-id',
        'e2e-revoke',
        '--timeout',
        '2m',
        '--json',
        '--out',
        out,
      ],
      cliEnv,
    );
    const { url, handoffId } = await approvalIn(name);
    const code = await approveOnSandbox(url, 'alice@example.com');
    expect((await runCli('reply-revoke', ['reply', `local:${name}`, code, '--as', 'alice'], cliEnv)).code).toBe(0);
    expect((await login.waitForExit(20_000)).code, login.describe()).toBe(0);
    const token = (JSON.parse(await readFile(out, 'utf8')) as { accessToken: string }).accessToken;

    const listed = await runCli('credentials', ['credentials', '--agent', 'e2e-revoke', '--json'], cliEnv);
    expect(listed.code, listed.proc.describe()).toBe(0);
    expect(listed.stdout).not.toContain(token);
    const [credential] = (
      JSON.parse(listed.stdout) as { credentials: Array<{ id: string; handoffId: string; service: string }> }
    ).credentials;
    expect(credential).toMatchObject({ handoffId, service: `${bridge.url}/sandbox` });
    const text = await runCli('credentials-text', ['credentials', '--agent', 'e2e-revoke'], cliEnv);
    expect(text.stdout).toContain(`${credential!.id}  Sandbox Analytics (agent-sessions)`);

    const revoked = await runCli('revoke', ['revoke', credential!.id], cliEnv);
    expect(revoked.code, revoked.proc.describe()).toBe(0);
    expect(revoked.stdout.trim()).toBe(`Revoked ${credential!.id} at the service and here.`);
    expect(
      (await fetch(`${bridge.url}/sandbox/api/me`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
    const again = await runCli('revoke-again', ['revoke', credential!.id], cliEnv);
    expect(again.code, again.proc.describe()).toBe(1);
    expect(again.stderr).toContain('[credential_not_found]');
  });

  it('usage errors exit 2: no --service, an unknown command, a --timeout that is not a duration', async () => {
    const [noService, unknown, badTimeout] = await Promise.all([
      runCli('usage-no-service', ['login', '--thread', 'local:x'], cliEnv),
      runCli('usage-unknown', ['frobnicate'], cliEnv),
      runCli(
        'usage-timeout',
        ['login', '--service', `${bridge.url}/sandbox`, '--thread', 'local:x', '--timeout', 'soon'],
        cliEnv,
      ),
    ]);
    expect(noService.code, noService.proc.describe()).toBe(2);
    expect(noService.stderr).toContain('--service');
    expect(unknown.code, unknown.proc.describe()).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    expect(unknown.stderr).toContain('Usage: handoff');
    expect(badTimeout.code, badTimeout.proc.describe()).toBe(2);
    expect(badTimeout.stderr).toContain('--timeout "soon" is not a duration');
  });

  it('an unknown thread prefix exits 2 and names the thread', async () => {
    const result = await runCli(
      'bad-thread',
      ['login', '--service', `${bridge.url}/sandbox`, '--thread', 'nope:x', '--json'],
      cliEnv,
    );
    expect(result.code, result.proc.describe()).toBe(2);
    expect(result.stderr).toContain('"nope:x"');
    expect(result.stderr).toMatch(/unknown prefix/);
  });

  it('a login nobody answers exits 3 with status "expired"', async () => {
    const name = threadName('exp');
    const started = Date.now();
    const result = await runCli(
      'login-expired',
      [
        'login',
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        `local:${name}`,
        '--approver',
        'alice',
        '--timeout',
        '3s',
        '--json',
      ],
      cliEnv,
      30_000,
    );
    expect(result.code, result.proc.describe()).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(parseSingleJson(result.stdout).handoff.status).toBe('expired');
    // The expiry notice goes out through the outbound queue, so it may land just after the CLI exits.
    await waitFor('expiry notice', async () =>
      (await bridge.messages(name)).some((m) => m.kind === 'bot' && m.text.startsWith('⌛')),
    );
  });

  it('a login cancelled with `handoff cancel <id>` exits 5', async () => {
    const name = threadName('cancel');
    const login = startCli(
      'login-cancel',
      ['login', '--service', `${bridge.url}/sandbox`, '--thread', `local:${name}`, '--timeout', '2m', '--json'],
      cliEnv,
    );
    const { handoffId } = await approvalIn(name);
    const cancelled = await runCli('cancel', ['cancel', handoffId], cliEnv);
    expect(cancelled.code, cancelled.proc.describe()).toBe(0);
    expect(cancelled.stdout).toContain(`Cancelled ${handoffId}`);

    const { code } = await login.waitForExit(20_000);
    expect(code, login.describe()).toBe(5);
    expect(parseSingleJson(login.stdout()).handoff).toMatchObject({ id: handoffId, status: 'cancelled' });
  });

  it('five wrong codes from the approver exit 4 with too_many_attempts', async () => {
    const name = threadName('wrong');
    const login = startCli(
      'login-wrong',
      [
        'login',
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        `local:${name}`,
        '--approver',
        'alice',
        '--timeout',
        '2m',
        '--json',
      ],
      cliEnv,
    );
    const { url, handoffId } = await approvalIn(name);
    await approveOnSandbox(url, 'alice@example.com');
    for (let i = 1; i <= 5; i++) {
      const sent = await runCli(`reply-wrong-${i}`, ['reply', `local:${name}`, wrongCode(i), '--as', 'alice'], cliEnv);
      expect(sent.code, sent.proc.describe()).toBe(0);
      await waitFor(`wrong code ${i} counted`, async () => {
        const view = await handoffView(handoffId);
        return view.attempts >= i || view.status === 'failed';
      });
    }
    const { code } = await login.waitForExit(20_000);
    expect(code, login.describe()).toBe(4);
    const { handoff } = parseSingleJson(login.stdout());
    expect(handoff).toMatchObject({ id: handoffId, status: 'failed', error: { code: 'too_many_attempts' } });
  });

  it('an unreachable bridge exits 1 and says how to start it', async () => {
    const closed = await freePort();
    const result = await runCli(
      'unreachable',
      ['login', '--service', `http://127.0.0.1:${closed}/sandbox`, '--thread', 'local:x', '--json'],
      { HANDOFF_URL: `http://127.0.0.1:${closed}`, HANDOFF_API_TOKEN: bridge.apiToken },
    );
    expect(result.code, result.proc.describe()).toBe(1);
    expect(result.stderr).toContain(`Cannot reach the bridge at http://127.0.0.1:${closed}`);
    expect(result.stderr).toContain('npm start');
  });
});
