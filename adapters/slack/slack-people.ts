import type { WebClient } from '@slack/web-api';
import { BadInputError } from '../../src/core/errors.js';
import type { Person } from '../../src/core/thread-adapter.js';
import { callSlack, slackErrorCode } from './slack-errors.js';

/**
 * Approvers as Slack user ids. A request may name them as an id (`U0123ABCD`), a mention
 * (`<@U0123ABCD>`), an email (users.lookupByEmail) or a handle (`@ana`, matched against
 * usernames, display names and real names through users.list). The email, when the token has
 * `users:read.email`, is what auth.md email flows send the code to.
 */
export interface SlackPeople {
  /** Throws BadInputError `approver_not_found` / `approver_ambiguous` when no one (or several) match. */
  resolve(handle: string): Promise<Person>;
}

interface SlackUser {
  readonly id?: string;
  readonly name?: string;
  readonly deleted?: boolean;
  readonly is_bot?: boolean;
  readonly real_name?: string;
  readonly profile?: { readonly email?: string; readonly display_name?: string; readonly real_name?: string };
}

/** Resolved people are kept this long, ms: a directory scan is expensive (users.list is Tier 2). */
export const personCacheMs = 10 * 60_000;
const cacheLimit = 1000;

const idPattern = /^[UW][A-Z0-9]{2,20}$/;
const mentionPattern = /^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$/;
const emailPattern = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

function toPerson(user: SlackUser): Person {
  const name = user.name || user.profile?.display_name || user.real_name;
  const email = user.profile?.email;
  return { id: user.id!, ...(name ? { name } : {}), ...(email ? { email } : {}) };
}

function notFound(handle: string, why: string): BadInputError {
  return new BadInputError(`Approver "${handle.slice(0, 100)}" ${why}`, {
    code: 'approver_not_found',
    details: { field: 'approvers' },
  });
}

export function createSlackPeople(client: WebClient, now: () => number = Date.now): SlackPeople {
  const cache = new Map<string, { person: Person; until: number }>();

  async function byId(id: string, handle: string): Promise<Person> {
    try {
      const res = await callSlack('users.info', () => client.users.info({ user: id }));
      return toPerson({ ...(res.user as SlackUser), id });
    } catch (err) {
      if (slackErrorCode(err) === 'user_not_found') throw notFound(handle, 'is not a user of this Slack workspace.');
      throw err;
    }
  }

  async function byEmail(email: string): Promise<Person> {
    try {
      const res = await callSlack('users.lookupByEmail', () => client.users.lookupByEmail({ email }));
      return toPerson(res.user as SlackUser);
    } catch (err) {
      if (slackErrorCode(err) === 'users_not_found') throw notFound(email, 'matches no Slack user’s email.');
      throw err;
    }
  }

  /** Exact username first, then display name, then real name; case-insensitive. */
  async function byName(handle: string): Promise<Person> {
    const wanted = handle.replace(/^@/, '').trim().toLowerCase();
    const tiers: SlackUser[][] = [[], [], []];
    let cursor: string | undefined;
    do {
      const page = await callSlack('users.list', () =>
        client.users.list({ limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const user of (page.members ?? []) as SlackUser[]) {
        if (!user.id || user.deleted || user.is_bot) continue;
        if (user.name?.toLowerCase() === wanted) tiers[0]!.push(user);
        else if (user.profile?.display_name?.toLowerCase() === wanted) tiers[1]!.push(user);
        else if ((user.profile?.real_name ?? user.real_name)?.toLowerCase() === wanted) tiers[2]!.push(user);
      }
      if (tiers[0]!.length > 0) break;
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    const found = tiers.find((tier) => tier.length > 0) ?? [];
    if (found.length === 0) throw notFound(handle, 'matches no Slack user; name them by user id or email instead.');
    if (found.length > 1) {
      throw new BadInputError(
        `Approver "${handle.slice(0, 100)}" matches ${found.length} Slack users; name them by user id or email instead.`,
        {
          code: 'approver_ambiguous',
          details: { field: 'approvers' },
        },
      );
    }
    return toPerson(found[0]!);
  }

  async function lookup(handle: string): Promise<Person> {
    const trimmed = handle.trim();
    const mention = mentionPattern.exec(trimmed)?.[1];
    if (mention) return byId(mention, trimmed);
    if (idPattern.test(trimmed)) return byId(trimmed, trimmed);
    if (emailPattern.test(trimmed)) return byEmail(trimmed);
    return byName(trimmed);
  }

  return {
    async resolve(handle) {
      const key = handle.trim();
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.person;
      const person = await lookup(handle);
      if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value!);
      cache.set(key, { person, until: now() + personCacheMs });
      return person;
    },
  };
}
