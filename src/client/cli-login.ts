import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/clock.js';
import type { HandoffView } from '../core/wire.js';
import type { BridgeClient } from './bridge-client.js';
import { approvalLine, exitCodeFor, exitCodes, progressLine } from './cli-output.js';
import { clientFrom, UsageError, writeSecretFile, type Io } from './cli-common.js';
import { waitingFrom, waitingOptions } from './cli-waiting.js';

/**
 * `handoff login`: asks the bridge for a login, shows its progress (the approval link, then each
 * change of status) while it waits, cancels it on Ctrl-C, and when it ends writes the credential
 * to `--out` (mode 0600) or says where the bridge keeps it; the exit code says how it ended.
 */
export async function login(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
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
