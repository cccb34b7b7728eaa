import { DelayedError, type Job } from 'bullmq';
import type { HandoffRequestInput, HandoffView } from '../core/wire.js';
import type { BridgeClient } from './bridge-client.js';
import { LoginCancelledError, LoginExpiredError, LoginFailedError } from './login-errors.js';
import type { LoginWaits, WaitingJob } from './login-resumer.js';

/**
 * Logging in from inside a BullMQ job, without holding a worker while a human approves, and
 * without any access to the bridge's Redis (the agent's queue lives on its own Redis):
 *
 *   const login = await requireLogin(job, token, { service, thread, agent: { id } }, { client, resumer });
 *   const res = await fetch(url, { headers: { authorization: `Bearer ${await login.accessToken()}` } });
 *
 * The first run asks the bridge for a handoff, parks this job as a *delayed* job until the
 * handoff's expiry (the backstop) and throws DelayedError (BullMQ's signal to leave it there).
 * The resumer (login-resumer.ts), following the agent's feed of endings over HTTP, promotes
 * the job as soon as the handoff ends; BullMQ runs it again, and requireLogin then returns a
 * handle to the credential, or throws LoginExpiredError / LoginFailedError / LoginCancelledError.
 * Use a different `name` for each login a job needs.
 *
 * No wake-up is lost: the job is parked and its wait recorded *before* the handoff is read
 * once more, so an ending the resumer saw too early (nothing was parked yet) is found by that
 * read, and the job promotes itself.
 */
export interface CredentialHandle {
  readonly handoffId: string;
  readonly credentialId: string;
  readonly scopes: readonly string[];
  /** True when a standing grant answered (nobody was asked this time; see `reuse`). */
  readonly reused: boolean;
  /** The current access token, fetched from the bridge on each call (audited there; refreshed first when due). */
  accessToken(): Promise<string>;
  /**
   * Tell the bridge the service answered 401 to this credential. It refreshes it (then call
   * `accessToken()` again), or re-opens the login in the same thread and says which handoff.
   */
  reportRejected(): Promise<{ status: 'refreshed' } | { status: 'reopened'; handoffId: string }>;
}

export interface RequireLoginOptions {
  /** The bridge, over HTTP (the agent's key). */
  readonly client: BridgeClient;
  /** The resumer this worker process runs (`createLoginResumer(…).start()`): it wakes the parked job. */
  readonly resumer: LoginWaits;
  /** Distinguishes several logins in one job. Default `login`. */
  readonly name?: string;
}

/**
 * How long after a handoff's expiry its job wakes by itself, ms: the bridge ends an expired
 * handoff at its expiry, so by then the ending is there to read.
 */
export const expiryGraceMs = 1_000;

/** A job that wakes after the expiry and finds the handoff not yet ended looks again this much later, ms. */
export const lateRecheckMs = 10_000;

type LoginState = Record<string, string>;
const finished = (view: HandoffView) => ['completed', 'failed', 'expired', 'cancelled'].includes(view.status);
const stateField = '__handoffLogins';

/** What a handle is made of: a handoff's view, or a completed login's feed entry (FeedEventView). */
type Ending = Pick<HandoffView, 'id' | 'status' | 'reused'> &
  Partial<Pick<HandoffView, 'error'>> & {
    readonly credential: Pick<NonNullable<HandoffView['credential']>, 'id' | 'scopes'> | null;
  };

function handleFor(client: BridgeClient, view: Ending): CredentialHandle {
  if (view.status === 'completed' && view.credential) {
    return {
      handoffId: view.id,
      credentialId: view.credential.id,
      scopes: view.credential.scopes,
      reused: view.reused,
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
      throw new LoginFailedError(
        view.id,
        'driver_failed',
        `the bridge stopped driving this login while it was ${view.status}.`,
      );
  }
}

/** The queue and id of a job, as the resumer needs them to find it again. */
function waitingJob(job: Job): WaitingJob {
  const qualified = job.queueQualifiedName;
  return { prefix: qualified.slice(0, qualified.length - job.queueName.length - 1), queue: job.queueName, id: job.id! };
}

/**
 * Parks the job until the handoff ends: recorded for the resumer, moved to delayed until the
 * backstop, then the handoff is read once more (see the module comment for why this order).
 */
export async function park(
  job: Job,
  token: string,
  handoff: Pick<HandoffView, 'id' | 'expiresAt'>,
  options: Pick<RequireLoginOptions, 'client' | 'resumer'>,
): Promise<never> {
  const now = Date.now();
  const backstop = handoff.expiresAt + expiryGraceMs;
  const until = now < backstop ? backstop : now + lateRecheckMs;
  await options.resumer.watch(handoff.id, waitingJob(job), until);
  await job.moveToDelayed(until, token);
  try {
    if (finished(await options.client.getHandoff(handoff.id))) await job.promote();
  } catch {
    // Parked either way: the feed or the backstop wakes it.
  }
  throw new DelayedError();
}

/**
 * The request's `reuse` defaults to `agent` here (the HTTP API's is `never`): a job that runs
 * again and again — a scheduled job — gets the credential a person approved for an earlier
 * run at once, without parking, while it lives; and a run that fires while an earlier run's
 * login still waits joins that login rather than asking a second time. `reuse: 'never'`
 * asks a person every time.
 */
export async function requireLogin(
  job: Job,
  token: string | undefined,
  request: HandoffRequestInput,
  options: RequireLoginOptions,
): Promise<CredentialHandle> {
  const name = options.name ?? 'login';
  const state = ((job.data as Record<string, unknown>)[stateField] ?? {}) as LoginState;
  const existing = state[name];
  if (existing) {
    // The resumer that woke this run read a completed login's credential from the feed: no request.
    const ended = options.resumer.ending?.(existing);
    if (ended?.status === 'completed' && ended.credential) {
      void options.resumer.forget(existing, waitingJob(job)).catch(() => undefined);
      const { status, credential, reused } = ended;
      return handleFor(options.client, { id: existing, status, credential, reused });
    }
    const view = await options.client.getHandoff(existing);
    if (finished(view)) {
      // Only tidying (the record expires by itself): neither wait for it nor fail the job over it.
      void options.resumer.forget(existing, waitingJob(job)).catch(() => undefined);
      return handleFor(options.client, view);
    }
    if (!token) throw new Error('requireLogin needs the job token (the second argument of the processor).');
    return park(job, token, view, options);
  }

  if (!token) throw new Error('requireLogin needs the job token (the second argument of the processor).');
  const created = await options.client.createHandoff({
    ...request,
    // A scheduled run takes the grant a person gave an earlier run, or joins its waiting login.
    reuse: request.reuse ?? 'agent',
    // Same key on a retry of this job: the bridge returns the same handoff, not a second one.
    idempotencyKey: request.idempotencyKey ?? `${job.queueQualifiedName}/${job.id}/${name}`,
  });
  await job.updateData({ ...(job.data as object), [stateField]: { ...state, [name]: created.id } });
  // Answered by a standing grant: no wait, no park.
  if (created.reused && created.credential) return handleFor(options.client, created);
  return park(job, token, created, options);
}
