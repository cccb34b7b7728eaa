import { HandoffError } from '../core/errors.js';
import { agentsCommand, agentsUsage } from './cli-agents.js';
import { approvalCommands, approvalUsage } from './cli-approvals.js';
import { defaultIo, UsageError, type Command, type Io } from './cli-common.js';
import { handoffCommands } from './cli-handoffs.js';
import { extendUsage, waitingCommands, waitingHelp, waitingUsage } from './cli-waiting.js';
import { exitCodes } from './cli-output.js';

const usage = `Usage: handoff <command> [options]

Commands:
  serve                          run the bridge (server and workers); same as npm start
  server | worker                run only the HTTP server, or only the queue workers
  login --service URL --thread REF [--approver ID]... [--approver-email EMAIL]
        [--agent-id ID] [--correlation-id ID] [--scopes a,b] [--timeout 30m]
        [--protocol auto|NAME] [--reuse agent|thread] [--json] [--out FILE]
        ${waitingUsage}
                                 ask a human for a login and wait for it; NAME is a
                                 protocol the bridge speaks (a name it does not is
                                 refused, naming those it does; default auto);
                                 --reuse answers at once with a live credential the
                                 agent holds (thread: only one approved in REF);
                                 ${waitingHelp}
${approvalUsage}
${extendUsage}
  reply REF TEXT [--as NAME]     reply in a local thread (local:<name>)
  status [ID] [--json]           one handoff, or the open ones
  cancel ID [--json]             cancel a handoff
  credential ID [--out FILE] [--json]
                                 fetch a completed handoff's credential
  credentials [--agent ID] [--json]
                                 list the credentials the bridge keeps (never their secrets)
  revoke CREDENTIAL_ID [--json]  revoke a credential at the service and delete it here
${agentsUsage}

  vault rekey [--json]           seal every stored secret again under HANDOFF_VAULT_KEY (key rotation;
                                 runs against Redis with the bridge's environment)

Environment: HANDOFF_URL (default http://127.0.0.1:$PORT or :8080; plain http only to this
machine unless HANDOFF_ALLOW_INSECURE_URL=true); HANDOFF_AGENT_KEY (an agent's key: login,
status… act as that agent); HANDOFF_API_TOKEN or HANDOFF_API_TOKEN_FILE (the operator's token,
for agents … and when no agent key is set; default: read from $HANDOFF_DATA_DIR/api-token,
i.e. .handoff/api-token).
Exit codes: 0 done, 1 error, 2 usage, 3 expired, 4 failed, 5 cancelled, 6 denied (request-approval), 130 interrupted.`;

const commands: Record<string, Command> = {
  ...handoffCommands,
  ...approvalCommands,
  ...waitingCommands,
  agents: agentsCommand,
};

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage);
    return name ? exitCodes.done : exitCodes.usage;
  }
  const command = commands[name];
  if (!command) {
    io.err(`Unknown command "${name}".\n\n${usage}`);
    return exitCodes.usage;
  }
  try {
    return await command(rest, env, io);
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
    ) {
      io.err(`${err.message}\n\nRun "handoff help" for usage.`);
      return exitCodes.usage;
    }
    if (err instanceof HandoffError) {
      io.err(`${err.message}${err.code ? ` [${err.code}]` : ''}`);
      return err.status === 400 || err.code === 'invalid_config' ? exitCodes.usage : exitCodes.error;
    }
    throw err;
  }
}
