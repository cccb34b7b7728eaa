import type { Job } from 'bullmq';
import type { ApprovalView } from '../core/approval-view.js';
import type { ApprovalRequestInput } from '../core/wire.js';
import {
  ApprovalCancelledError,
  ApprovalDeniedError,
  ApprovalExpiredError,
  ApprovalFailedError,
} from './approval-errors.js';
import type { BridgeClient } from './bridge-client.js';
import type { LoginWaits } from './login-resumer.js';
import { park } from './require-login.js';

/**
 * Asking people "may I?" from inside a BullMQ job (issue #13), parked like requireLogin():
 *
 *   const decision = await requireApproval(job, token, { thread, action: { title: 'Drop table users' } }, { client, resumer });
 *
 * The first run creates the approval (idempotently, keyed by the job), parks the job as a
 * delayed job until the expiry and throws DelayedError; the resumer promotes it when the
 * approval ends. The next run returns the decision when approved, or throws
 * ApprovalDeniedError (with the reason), ApprovalExpiredError, ApprovalCancelledError or
 * ApprovalFailedError. Use a different `name` for each approval a job needs.
 */
export interface ApprovalDecisionResult {
  readonly handoffId: string;
  readonly outcome: 'approved';
  readonly by: readonly { readonly who: string; readonly at: number }[];
  readonly at: number;
}

export interface RequireApprovalOptions {
  readonly client: BridgeClient;
  readonly resumer: LoginWaits;
  /** Distinguishes several approvals in one job. Default `approval`. */
  readonly name?: string;
}

const stateField = '__handoffApprovals';
const finished = (view: Pick<ApprovalView, 'status'>) =>
  ['completed', 'failed', 'expired', 'cancelled'].includes(view.status);

function decisionOf(view: ApprovalView): ApprovalDecisionResult {
  if (view.status === 'completed' && view.decision) {
    if (view.decision.outcome === 'approved')
      return { handoffId: view.id, outcome: 'approved', by: view.decision.by, at: view.decision.at };
    throw new ApprovalDeniedError(
      view.id,
      view.decision.reason,
      view.decision.by.map((b) => b.who),
    );
  }
  switch (view.status) {
    case 'expired':
      throw new ApprovalExpiredError(view.id);
    case 'cancelled':
      throw new ApprovalCancelledError(view.id);
    default:
      throw new ApprovalFailedError(view.id, view.error?.code ?? 'unknown', view.error?.message ?? 'no reason given');
  }
}

export async function requireApproval(
  job: Job,
  token: string | undefined,
  request: Omit<ApprovalRequestInput, 'kind'>,
  options: RequireApprovalOptions,
): Promise<ApprovalDecisionResult> {
  const name = options.name ?? 'approval';
  const state = ((job.data as Record<string, unknown>)[stateField] ?? {}) as Record<string, string>;
  const existing = state[name];
  const parkOptions = {
    resumer: options.resumer,
    // park() reads the handoff once more after parking; an approval's view has the same status field.
    client: options.client,
  };
  if (existing) {
    const view = await options.client.getApproval(existing);
    if (finished(view)) {
      void options.resumer.forget(existing).catch(() => undefined);
      return decisionOf(view);
    }
    if (!token) throw new Error('requireApproval needs the job token (the second argument of the processor).');
    return park(job, token, view, parkOptions);
  }
  if (!token) throw new Error('requireApproval needs the job token (the second argument of the processor).');
  const created = await options.client.createApproval({
    ...request,
    idempotencyKey: request.idempotencyKey ?? `${job.queueQualifiedName}/${job.id}/${name}`,
  });
  await job.updateData({ ...(job.data as object), [stateField]: { ...state, [name]: created.id } });
  return park(job, token, created, parkOptions);
}
