import type { Person } from '../../src/core/thread-adapter.js';

/**
 * Reading fields of Slack's interaction payloads, which are untrusted JSON whatever their
 * signature says about where they came from: every field is checked for its shape here.
 */
export const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

const handoffIdPattern = /^hf_[A-Za-z0-9]{1,64}$/;

/** A handoff id as the bridge makes them (a value that came back in a button or a view). */
export const isHandoffId = (value: unknown): value is string => isText(value) && handoffIdPattern.test(value);

/** The payload's `user` as a Person: the id always, the handle when Slack gave one. */
export function slackPerson(
  user: { readonly id?: unknown; readonly username?: unknown; readonly name?: unknown } | undefined,
): Person | undefined {
  if (!user || !isText(user.id)) return undefined;
  const name = isText(user.username) ? user.username : isText(user.name) ? user.name : undefined;
  return { id: user.id, ...(name ? { name } : {}) };
}

/** JSON carried in a string field (a button value, a view's private_metadata); undefined when it is not. */
export function parseJsonField<T>(text: unknown): T | undefined {
  if (!isText(text)) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
