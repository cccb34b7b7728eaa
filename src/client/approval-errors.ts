import { HandoffError } from '../core/errors.js';

/** The approval ended without a yes. `code` says how; the message says why. */
export class ApprovalNotGrantedError extends HandoffError {
  readonly handoffId: string;
  constructor(handoffId: string, code: string, message: string) {
    super(message, { code, status: 409, retry: 'never' });
    this.handoffId = handoffId;
  }
}

/** Someone denied it (or nobody decided and the request said a timeout denies: reason "timed out"). */
export class ApprovalDeniedError extends ApprovalNotGrantedError {
  readonly reason: string | undefined;
  readonly by: readonly string[];
  constructor(handoffId: string, reason: string | undefined, by: readonly string[]) {
    super(
      handoffId,
      'approval_denied',
      `Approval ${handoffId} was denied${by.length ? ` by ${by.join(', ')}` : ''}${reason ? `: ${reason}` : ''}.`,
    );
    this.reason = reason;
    this.by = by;
  }
}

/** Nobody decided before it expired (`onTimeout: expire`): not a decision either way. */
export class ApprovalExpiredError extends ApprovalNotGrantedError {
  constructor(handoffId: string) {
    super(handoffId, 'approval_expired', `Approval ${handoffId} expired before anyone decided.`);
  }
}

/** Someone cancelled the request. */
export class ApprovalCancelledError extends ApprovalNotGrantedError {
  constructor(handoffId: string) {
    super(handoffId, 'approval_cancelled', `Approval ${handoffId} was cancelled.`);
  }
}

/** The bridge could not carry the request (undeliverable thread, unknown approver…). */
export class ApprovalFailedError extends ApprovalNotGrantedError {
  constructor(handoffId: string, reason: string, message: string) {
    super(handoffId, 'approval_failed', `Approval ${handoffId} failed (${reason}): ${message}`);
  }
}
