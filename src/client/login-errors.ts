import { HandoffError } from '../core/errors.js';

/** The login ended without a credential. `code` says how; the message says why. */
export class LoginNotCompletedError extends HandoffError {
  readonly handoffId: string;
  constructor(handoffId: string, code: string, message: string) {
    super(message, { code, status: 409, retry: 'never' });
    this.handoffId = handoffId;
  }
}

/** Nobody finished the login before it expired. */
export class LoginExpiredError extends LoginNotCompletedError {
  constructor(handoffId: string) {
    super(handoffId, 'login_expired', `Login handoff ${handoffId} expired before anyone finished it.`);
  }
}

/** The login failed (wrong codes, refused by the service, undeliverable thread…). */
export class LoginFailedError extends LoginNotCompletedError {
  readonly reason: string;
  constructor(handoffId: string, reason: string, message: string) {
    super(handoffId, 'login_failed', `Login handoff ${handoffId} failed (${reason}): ${message}`);
    this.reason = reason;
  }
}

/** Someone cancelled the login. */
export class LoginCancelledError extends LoginNotCompletedError {
  constructor(handoffId: string) {
    super(handoffId, 'login_cancelled', `Login handoff ${handoffId} was cancelled.`);
  }
}
