import type { ApprovedBy } from '../core/login-protocol.js';

/**
 * Reading who approved out of a service's answer. Services are untrusted and lenient in
 * shape, so every value is checked: an email must look like one and fit RFC 5321's 254
 * characters, a subject is a short printable string (a number is taken as its digits).
 * Anything else is dropped, so the engine sees either a usable identity or none.
 */
const emailPattern =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const maxEmail = 254;
const maxSubject = 200;

/** The value as an email the engine can compare (trimmed, lower-cased), or undefined. */
export function serviceEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return email.length <= maxEmail && emailPattern.test(email) ? email : undefined;
}

function serviceSubject(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const subject = text.trim();
  // Printable ASCII only: a subject ends up in the audit, and only there.
  return subject.length > 0 && subject.length <= maxSubject && /^[\x21-\x7e]+$/.test(subject) ? subject : undefined;
}

/**
 * An ApprovedBy from raw service values, or undefined when neither is usable.
 * `emailVerified === false` (an OIDC claim) drops the email: an unverified address is
 * whatever the account holder typed, and so proves nothing about who they are.
 */
export function approvedByFrom(
  raw: { email?: unknown; subject?: unknown; emailVerified?: unknown },
  source: ApprovedBy['source'],
): ApprovedBy | undefined {
  const email = raw.emailVerified === false ? undefined : serviceEmail(raw.email);
  const subject = serviceSubject(raw.subject);
  if (!email && !subject) return undefined;
  return { source, ...(email ? { email } : {}), ...(subject ? { subject } : {}) };
}
