import { WaitingChildrenError, type Job } from 'bullmq';
import type { HandoffRequestInput } from '../engine/handoff-request.js';
import type { HandoffView } from '../engine/handoff-view.js';
import type { BridgeClient } from './bridge-client.js';
import { LoginCancelledError, LoginExpiredError, LoginFailedError } from './login-errors.js';

/**
 * Logging in from inside a BullMQ job, without holding a worker while a human approves:
 *
 *   const login = await requireLogin(job, token, { service, thread, agent: { id } }, { client });
 *   const res = await fetch(url, { headers: { authorization: `Bearer ${await login.accessToken()}` } });
 *
 * The first run asks the bridge for a handoff whose driver job is a child of this job, moves
 * this job to waiting-children and throws WaitingChildrenError (BullMQ's signal to park it).
 * When the handoff ends, BullMQ runs this job again; requireLogin then returns a handle to
 * the credential, or throws LoginExpiredError / LoginFailedError / LoginCancelledError.
 * Use a different `name` for each login a job needs. The agent's queue must live on the same
 * Redis as the bridge (BullMQ parents and children share a server).
 */
export interface CredentialHandle {
  readonly handoffId: string;
  readonly credentialId: string;
  readonly scopes: readonly string[];
  /** The current access token, fetched from the bridge on each call (audited there; refreshed first when due). */
  accessToken(): Promise<string>;
  /**
   * Tell the bridge the service answered 401 to this credential. It refreshes it (then call
   * `accessToken()` again), or re-opens the login in the same thread and says which handoff.
   */
  reportRejected(): Promise<{ status: 'refreshed' } | { status: 'reopened'; handoffId: string }>;
}

export interface RequireLoginOptions {
  readonly client: BridgeClient;
  /** Distinguishes several logins in one job. Default `login`. */
  readonly name?: string;
}

type LoginState = Record<string, string>;
const finished = (view: HandoffView) => ['completed', 'failed', 'expired', 'cancelled'].includes(view.status);
const stateField = '__handoffLogins';

function handleFor(client: BridgeClient, view: HandoffView): CredentialHandle {
  if (view.status === 'completed' && view.credential) {
    return {
      handoffId: view.id,
      credentialId: view.credential.id,
      scopes: view.credential.scopes,
      accessToken: async () => (await client.retrieveCredential(view.id)).accessToken,
      reportRejected: () => client.reportRejected(view.credential!.id),
    };
  }
  switch (view.status) {
    case 'expired':
      throw new LoginExpiredError(view.id);
    case 'cancelled':
      throw new LoginCancelledError(view.id);
    case 'failed':
      throw new LoginFailedError(view.id, view.error?.code ?? 'unknown', view.error?.message ?? 'no reason given');
    default:
      // The driver job ended without finishing the handoff (it failed for good).
      throw new LoginFailedError(view.id, 'driver_failed', `the bridge stopped driving this login while it was ${view.status}.`);
  }
}

export async function requireLogin(
  job: Job,
  token: string | undefined,
  request: Omit<HandoffRequestInput, 'parentJob'>,
  options: RequireLoginOptions,
): Promise<CredentialHandle> {
  const name = options.name ?? 'login';
  const state = ((job.data as Record<string, unknown>)[stateField] ?? {}) as LoginState;
  const existing = state[name];
  if (existing) {
    const view = await options.client.getHandoff(existing);
    if (!finished(view) && token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    return handleFor(options.client, finished(view) ? view : await options.client.getHandoff(existing));
  }

  if (!token) throw new Error('requireLogin needs the job token (the second argument of the processor).');
  const created = await options.client.createHandoff({
    ...request,
    // Same key on a retry of this job: the bridge returns the same handoff, not a second one.
    idempotencyKey: request.idempotencyKey ?? `${job.queueQualifiedName}/${job.id}/${name}`,
    parentJob: { id: job.id!, queue: job.queueQualifiedName },
  });
  await job.updateData({ ...(job.data as object), [stateField]: { ...state, [name]: created.id } });
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  // The handoff already ended (for example it was refused at once): report it now.
  return handleFor(options.client, await options.client.getHandoff(created.id));
}
