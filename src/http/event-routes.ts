import { mayActFor, type ApiCall } from '../core/caller.js';
import { BadInputError, NotFoundError } from '../core/errors.js';
import { json, type Route, type RouteRequest } from '../core/http-route.js';
import type { FeedEventView, FeedPageView } from '../core/wire.js';
import { feedStart, type AgentFeed, type FeedPage } from '../store/agent-feed.js';
import type { ApiGuard } from './api-auth.js';
import type { FeedCursors } from './feed-cursor.js';
import { readUntil, waitMsOf } from './long-poll.js';
import type { StatusEvents } from './status-events.js';

/**
 * `GET /v1/events?after=<cursor>&waitMs=<ms>&limit=<n>`: the caller's feed of handoff
 * endings, a long poll resumable by cursor. This is how an agent learns that a handoff ended
 * without any access to the bridge's Redis (its resumer follows it; see
 * src/client/login-resumer.ts).
 *
 * A long poll rather than Server-Sent Events: each request carries its cursor explicitly, goes
 * through the same guard, errors and request ids as the rest of the API, holds no stream state
 * on the server between requests, and passes any proxy; the cost — one request per wake-up —
 * is a loopback-sized round trip, well inside the resume budget.
 *
 * An agent key reads its own feed only; `agent=<another id>` is answered 404 whether that agent
 * exists or not. The admin token reads any one agent's feed with `agent=<id>`.
 */

/** Most events one answer carries (default 100). */
export const maxEventsPerPage = 1_000;

function limitOf(req: RouteRequest): number {
  const raw = req.query.get('limit');
  if (raw === null || raw === '') return 100;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > maxEventsPerPage) {
    throw new BadInputError(`limit must be a whole number from 1 to ${maxEventsPerPage}.`, {
      code: 'invalid_request',
      details: { field: 'limit' },
    });
  }
  return value;
}

/** Whose feed: the agent key's own, or the one the admin names. */
function ownerOf(req: RouteRequest, call: ApiCall): string {
  const asked = req.query.get('agent');
  if (call.caller.kind === 'agent' && (asked === null || asked === '')) return call.caller.agentId;
  if (asked === null || asked === '') {
    throw new BadInputError("The admin token reads one agent's feed at a time: add ?agent=<agent id>.", {
      code: 'invalid_request',
      details: { field: 'agent' },
    });
  }
  if (!mayActFor(call.caller, asked)) {
    // The same answer for an agent that exists and one that does not: no existence leak.
    throw new NotFoundError(
      'There is no such feed for this key. An agent key reads its own feed: leave out "agent".',
      'feed_not_found',
    );
  }
  if (asked.length > 200)
    throw new BadInputError('agent must be an agent id (at most 200 characters).', {
      code: 'invalid_request',
      details: { field: 'agent' },
    });
  return asked;
}

export function eventRoutes(deps: {
  feed: AgentFeed;
  events: StatusEvents;
  cursors: FeedCursors;
  guard: ApiGuard;
}): Route[] {
  const { feed, events, cursors, guard } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/events',
      handler: guard(async (req, call) => {
        const agentId = ownerOf(req, call);
        const after = req.query.get('after');
        const position = after === null || after === '' ? feedStart : cursors.open(agentId, after);
        const limit = limitOf(req);
        const waitMs = waitMsOf(req);
        // Armed before the first read, like every wait of the API (see status-events.ts).
        const waiter = events.armFeed(agentId);
        let page: FeedPage;
        try {
          const read = () => feed.read(agentId, position, limit);
          page = await readUntil(waiter, await read(), {
            read,
            done: (p) => p.entries.length > 0,
            waitMs,
            signal: req.signal,
          });
        } finally {
          waiter.close();
        }
        const views: FeedEventView[] = page.entries.map((e) => ({
          cursor: cursors.issue(agentId, e.id),
          handoffId: e.handoffId,
          status: e.status,
          endedAt: e.endedAt,
          error: e.errorCode ?? null,
          credential: e.credential ?? null,
          reused: e.reused === true,
        }));
        const cursor = views.at(-1)?.cursor ?? cursors.issue(agentId, position);
        return json(200, { events: views, cursor, gap: page.gap } satisfies FeedPageView);
      }),
    },
  ];
}
