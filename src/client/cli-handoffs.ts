import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/clock.js';
import type { HandoffView } from '../core/wire.js';
import type { BridgeClient } from './bridge-client.js';
import {
  approvalLine,
  describeCredential,
  describeHandoff,
  exitCodeFor,
  exitCodes,
  progressLine,
} from './cli-output.js';
import { clientFrom, UsageError, writeSecretFile, type Command, type Io } from './cli-common.js';
import { waitingFrom, waitingOptions } from './cli-waiting.js';

/** The agent's commands: ask for a login and wait, reply locally, look, cancel, fetch, list, revoke. */
async function login(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      service: { type: 'string' },
      thread: { type: 'string' },
      approver: { type: 'string', multiple: true },
      'approver-email': { type: 'string' },
      'agent-id': { type: 'string' },
      'correlation-id': { type: 'string' },
      scopes: { type: 'string' },
      timeout: { type: 'string' },
      protocol: { type: 'string' },
      reuse: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      ...waitingOptions,
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.service)
    throw new UsageError('login needs --service URL (the service API root, e.g. http://127.0.0.1:8080/sandbox).');
  if (!values.thread)
    throw new UsageError("login needs --thread REF (e.g. local:demo; each platform's README shows its refs).");
  let expiresInMs: number | undefined;
  if (values.timeout !== undefined) {
    expiresInMs = parseDuration(values.timeout);
    if (!expiresInMs) throw new UsageError(`--timeout "${values.timeout}" is not a duration; use e.g. 90s, 30m or 2h.`);
  }
  const reuse = values.reuse;
  if (reuse !== undefined && reuse !== 'agent' && reuse !== 'thread' && reuse !== 'never')
    throw new UsageError(
      `--reuse "${reuse.slice(0, 40)}" is not one of agent, thread, never (agent: a live credential this agent holds for the service; thread: only one approved in this thread).`,
    );
  const waiting = waitingFrom(values);
  const client = await clientFrom(env);
  const created = await client.createHandoff({
    service: values.service,
    thread: values.thread,
    approvers: values.approver ?? [],
    ...(values['approver-email'] ? { approverEmail: values['approver-email'] } : {}),
    // An agent key names its agent by itself; the operator's token names one (the user's, by default).
    agent: {
      ...(values['agent-id'] || !client.asAgent ? { id: values['agent-id'] ?? `cli-${userInfo().username}` } : {}),
      ...(values['correlation-id'] ? { correlationId: values['correlation-id'] } : {}),
    },
    scopes: values.scopes
      ? values.scopes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    ...(expiresInMs ? { expiresInMs } : {}),
    ...(values.protocol ? { protocol: values.protocol as 'auto' } : {}),
    ...(reuse ? { reuse } : {}),
    ...waiting,
  });
  const showProgress = io.interactive || !values.json;
  if (showProgress)
    io.err(
      created.reused
        ? `handoff ${created.id} answered at once with credential ${created.credential?.id} (reused; nobody was asked)`
        : `handoff ${created.id} created for ${values.thread}`,
    );

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    let view = await client.getHandoff(created.id);
    let lastLine = '';
    let shownUrl = false;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(view.status)) {
      if (interrupted) {
        await client.cancelHandoff(created.id).catch(() => undefined);
        io.err('Interrupted: the handoff was cancelled.');
        return exitCodes.interrupted;
      }
      if (showProgress) {
        const approval = approvalLine(view);
        if (approval && !shownUrl) {
          shownUrl = true;
          io.err(approval);
          if (view.thread.startsWith('local:'))
            io.err(`thread page: ${client.baseUrl}/threads/${view.thread.slice(6)}`);
        }
        const line = progressLine(view, Date.now());
        if (line !== lastLine) io.err(`… ${line}`);
        lastLine = line;
      }
      view = await client.getHandoff(created.id, { waitMs: interrupted ? 0 : 15_000, ifStatus: view.status });
    }
    return await finishLogin(client, view, values.out, values.json ?? false, io);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function finishLogin(
  client: BridgeClient,
  view: HandoffView,
  out: string | undefined,
  json: boolean,
  io: Io,
): Promise<number> {
  let credentialFile: string | undefined;
  if (view.status === 'completed' && out) {
    const credential = await client.retrieveCredential(view.id);
    await writeSecretFile(out, { service: view.service, handoffId: view.id, ...credential });
    credentialFile = out;
  }
  if (json) io.out(JSON.stringify({ handoff: view, ...(credentialFile ? { credentialFile } : {}) }));
  else if (view.status === 'completed') {
    io.out(
      credentialFile
        ? `Logged in. Credential written to ${credentialFile} (mode 0600).`
        : `Logged in. Credential ${view.credential?.id} is kept by the bridge; fetch it with: handoff credential ${view.id} --out FILE`,
    );
  } else io.err(`Login ${view.status}: ${view.error?.message ?? 'no details'}`);
  return exitCodeFor(view.status);
}

async function reply(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { as: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [ref, ...words] = positionals;
  const match = /^local:(.+)$/.exec(ref ?? '');
  if (!match)
    throw new UsageError('reply needs a local thread (local:<name>) and the text: handoff reply local:demo "aae_…"');
  if (words.length === 0) throw new UsageError('reply needs the text to send.');
  const client = await clientFrom(env);
  const result = await client.replyLocal(match[1]!, values.as ?? userInfo().username, words.join(' '));
  io.out(result.ack === 'duplicate' ? 'Already received.' : 'Sent.');
  return exitCodes.done;
}

async function status(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const client = await clientFrom(env);
  if (positionals[0]) {
    const view = await client.getHandoff(positionals[0]);
    io.out(values.json ? JSON.stringify(view) : describeHandoff(view));
    return exitCodes.done;
  }
  const open = await client.listHandoffs({ open: true, limit: 50 });
  if (values.json) io.out(JSON.stringify({ handoffs: open }));
  else io.out(open.length ? open.map(describeHandoff).join('\n\n') : 'No open handoffs.');
  return exitCodes.done;
}

async function cancel(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('cancel needs a handoff id.');
  const view = await (await clientFrom(env)).cancelHandoff(positionals[0]);
  io.out(values.json ? JSON.stringify(view) : `Cancelled ${view.id}.`);
  return exitCodes.done;
}

async function credential(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('credential needs a handoff id.');
  if (!values.out && !values.json)
    throw new UsageError('credential needs --out FILE (written with mode 0600), or --json to print it.');
  const client = await clientFrom(env);
  const found = await client.retrieveCredential(positionals[0]);
  if (values.out) {
    await writeSecretFile(values.out, { handoffId: positionals[0], ...found });
    io.out(
      values.json ? JSON.stringify({ credentialFile: values.out }) : `Credential written to ${values.out} (mode 0600).`,
    );
  } else io.out(JSON.stringify(found));
  return exitCodes.done;
}

async function credentials(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { agent: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: false,
    strict: true,
  });
  const list = await (
    await clientFrom(env)
  ).listCredentials({ limit: 200, ...(values.agent ? { agent: values.agent } : {}) });
  if (values.json) io.out(JSON.stringify({ credentials: list }));
  else io.out(list.length ? list.map(describeCredential).join('\n\n') : 'No credentials.');
  return exitCodes.done;
}

async function revoke(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('revoke needs a credential id (see: handoff credentials).');
  const result = await (await clientFrom(env)).revokeCredential(positionals[0]);
  if (values.json) io.out(JSON.stringify(result));
  else {
    const where = {
      revoked: 'at the service and here',
      not_supported: 'here (the service offers no way to revoke it)',
      failed: `here; revoking at the service failed (${result.serviceError ?? 'unknown'})`,
    }[result.atService];
    io.out(`Revoked ${result.credential.id} ${where}.`);
  }
  return exitCodes.done;
}

export const handoffCommands: Record<string, Command> = {
  login,
  reply,
  status,
  cancel,
  credential,
  credentials,
  revoke,
};
