import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/clock.js';
import type { ApprovalView } from '../core/approval-view.js';
import { clientFrom, UsageError, type Command, type Io } from './cli-common.js';
import { exitCodes } from './cli-output.js';
import { waitingFrom, waitingOptions, waitingUsage } from './cli-waiting.js';

/**
 * `handoff request-approval` (issue #13): asks people in a thread to approve an action and
 * waits for the decision. Exit codes: 0 approved, 6 denied, 3 expired, 5 cancelled, 4 failed.
 */
export const approvalExitCodes = { approved: 0, denied: 6 } as const;

function detailsFrom(pairs: readonly string[]): Record<string, string> {
  const details: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--detail "${pair.slice(0, 60)}" must be key=value.`);
    details[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return details;
}

export function approvalExitCode(view: Pick<ApprovalView, 'status' | 'decision'>): number {
  switch (view.status) {
    case 'completed':
      return view.decision?.outcome === 'approved' ? approvalExitCodes.approved : approvalExitCodes.denied;
    case 'expired':
      return exitCodes.expired;
    case 'cancelled':
      return exitCodes.cancelled;
    default:
      return exitCodes.failed;
  }
}

const requestApproval: Command = async (argv: string[], env: NodeJS.ProcessEnv, io: Io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      thread: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      detail: { type: 'string', multiple: true },
      risk: { type: 'string' },
      link: { type: 'string' },
      approver: { type: 'string', multiple: true },
      quorum: { type: 'string' },
      'requested-by': { type: 'string' },
      'on-timeout': { type: 'string' },
      'agent-id': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...waitingOptions,
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.thread) throw new UsageError('request-approval needs --thread REF (e.g. local:demo).');
  if (!values.title) throw new UsageError('request-approval needs --title TEXT (what the agent wants to do).');
  let expiresInMs: number | undefined;
  if (values.timeout !== undefined) {
    expiresInMs = parseDuration(values.timeout);
    if (!expiresInMs) throw new UsageError(`--timeout "${values.timeout}" is not a duration; use e.g. 90s, 30m or 2h.`);
  }
  const quorum = values.quorum === undefined ? undefined : Number(values.quorum);
  if (quorum !== undefined && !(Number.isInteger(quorum) && quorum >= 1))
    throw new UsageError(`--quorum "${values.quorum}" must be a whole number of at least 1.`);
  const details = detailsFrom(values.detail ?? []);
  const waiting = waitingFrom(values);
  const client = await clientFrom(env);
  const created = await client.createApproval({
    thread: values.thread,
    action: {
      title: values.title,
      ...(values.description ? { description: values.description } : {}),
      ...(Object.keys(details).length ? { details } : {}),
      ...(values.risk ? { risk: values.risk as 'low' } : {}),
      ...(values.link ? { link: values.link } : {}),
    },
    approvers: values.approver ?? [],
    ...(quorum ? { quorum } : {}),
    ...(values['requested-by'] ? { requestedBy: values['requested-by'] } : {}),
    ...(values['on-timeout'] ? { onTimeout: values['on-timeout'] as 'expire' } : {}),
    ...(expiresInMs ? { expiresInMs } : {}),
    ...waiting,
    ...(values['agent-id'] || !client.asAgent
      ? { agent: { id: values['agent-id'] ?? `cli-${userInfo().username}` } }
      : {}),
  });
  const showProgress = io.interactive || !values.json;
  if (showProgress) {
    io.err(`approval ${created.id} requested in ${values.thread}`);
    if (values.thread.startsWith('local:')) io.err(`thread page: ${client.baseUrl}/threads/${values.thread.slice(6)}`);
  }
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    let view = await client.getApproval(created.id);
    let lastVotes = -1;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(view.status)) {
      if (interrupted) {
        await client.cancelHandoff(created.id).catch(() => undefined);
        io.err('Interrupted: the approval request was cancelled.');
        return exitCodes.interrupted;
      }
      if (showProgress && view.votes.approve.length !== lastVotes) {
        lastVotes = view.votes.approve.length;
        io.err(`… ${lastVotes} of ${view.votes.needed} approvals`);
      }
      view = await client.getApproval(created.id, { waitMs: 15_000, ifStatus: view.status });
    }
    if (values.json) io.out(JSON.stringify({ handoff: view }));
    else if (view.decision) {
      const by = view.decision.by.map((b) => b.who).join(', ');
      const line = `${view.decision.outcome === 'approved' ? 'Approved' : 'Denied'}${by ? ` by ${by}` : ''}${view.decision.reason ? `: ${view.decision.reason}` : ''}`;
      if (view.decision.outcome === 'approved') io.out(line);
      else io.err(line);
    } else io.err(`Approval ${view.status}: ${view.error?.message ?? 'no details'}`);
    return approvalExitCode(view);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
};

export const approvalCommands: Record<string, Command> = { 'request-approval': requestApproval };

export const approvalUsage = `  request-approval --thread REF --title TEXT [--description TEXT] [--detail k=v]... [--risk low|medium|high]
        [--link https://…] [--approver ID]... [--quorum N] [--requested-by ID] [--on-timeout expire|deny]
        [--agent-id ID] [--timeout 30m] [--json]
        ${waitingUsage}
                                 ask people to approve an action and wait for the decision
                                 (exit 0 approved, 6 denied, 3 expired, 5 cancelled)`;
