import { personActiveWindowMs, pollingAgain, type HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { LinkOpened } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';

/** What a report of an opened link did: the login now polls sooner, or nothing. */
export type LinkOpenedResult = 'polling_sooner' | 'already_active' | 'ignored';

async function loginOf(deps: EngineDeps, event: LinkOpened): Promise<HandoffRecord | undefined> {
  if ('id' in event.handoff) {
    const record = await deps.store.get(event.handoff.id);
    // Only a post in the handoff's own thread speaks for it.
    return record?.thread === event.thread ? record : undefined;
  }
  const tag = event.handoff.tag;
  const open = await deps.store.openInThread(event.thread);
  return open.find((r) => handoffTag(r.id) === tag);
}

/**
 * Someone opened a login's link (issue #16: approve-only → resume): the person is likely
 * approving at the service now, so the bridge polls it at the protocol's own interval for
 * the next minutes instead of its backed-off pace. The report is unauthenticated (anyone who
 * sees the post can click): it never completes or decides anything, never polls faster than
 * the protocol's interval, and a flood of clicks writes at most once per half window.
 */
export async function noteLinkOpened(deps: EngineDeps, event: LinkOpened): Promise<LinkOpenedResult> {
  const record = await loginOf(deps, event);
  if (!record || record.kind !== 'login' || record.status !== 'awaiting_human') return 'ignored';
  const now = deps.clock.now();
  const sooner = pollingAgain(record, now);
  if (!sooner) return 'ignored';
  if ((record.activeUntil ?? 0) - now > personActiveWindowMs / 2) return 'already_active';
  const saved = await deps.store.transition(record.id, { from: ['awaiting_human'], set: sooner });
  if (!saved.ok) return 'ignored';
  if (sooner.nextPollAt! < record.nextPollAt!) await deps.jobs.wake(record.id);
  deps.logger.debug('a login link was opened: polling the service at its interval', {
    handoffId: record.id,
    platform: event.platform,
  });
  return 'polling_sooner';
}
