import { cibaLoginHintsVariable, type CibaLoginHint } from '../core/config-ciba-hints.js';
import { BadInputError } from '../core/errors.js';

/**
 * The `login_hint` one CIBA authorization server is sent for an approver, in the format the
 * operator set for its origin (`HANDOFF_CIBA_LOGIN_HINTS`; default the email): Auth0's
 * `iss_sub` is the JSON string `{"format":"iss_sub","iss":"<metadata issuer>","sub":"<user id>"}`,
 * the user id from the operator's mapping. An approver missing from the mapping is refused
 * before anything is sent; the message names neither the email nor a subject.
 */
export function loginHintFor(
  hints: Readonly<Record<string, CibaLoginHint>>,
  origin: string,
  issuer: string,
  email: string,
): string {
  const hint = Object.hasOwn(hints, origin) ? hints[origin]! : { format: 'email' as const };
  if (hint.format === 'email') return email;
  const key = email.toLowerCase();
  const sub = Object.hasOwn(hint.subjects, key) ? hint.subjects[key] : undefined;
  if (!sub) {
    throw new BadInputError(
      `${origin} names people by its own user ids, and the operator's mapping in ${cibaLoginHintsVariable} has none for this approver: the operator adds them, or name another approver.`,
      { code: 'ciba_approver_not_mapped', details: { field: 'approverEmail' } },
    );
  }
  return JSON.stringify({ format: 'iss_sub', iss: issuer, sub });
}
