import type { WebClient } from '@slack/web-api';
import { HandoffError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { callSlack, slackErrorCode } from './slack-errors.js';

/**
 * Slack Connect: a channel shared with another organization (`is_ext_shared`, or with the
 * invitation still pending, `is_pending_ext_shared`) is read by people outside the workspace,
 * so the engine treats its threads as it treats a public repository (a warning with the link,
 * or a refusal with SLACK_SHARED_CHANNELS=refuse). A channel shared only inside an Enterprise
 * Grid org (`is_org_shared`) stays internal. Without the channels:read / groups:read scope
 * the bridge cannot tell, and it fails closed: the handoff fails with `slack_missing_scope`,
 * naming the scope to add, rather than posting a link into a channel that may be shared.
 */
export interface SlackSharing {
  isExternallyShared(channel: string): Promise<boolean>;
}

interface ChannelFlags {
  readonly is_ext_shared?: boolean;
  readonly is_pending_ext_shared?: boolean;
}

/** The scope conversations.info needs for a conversation id: C… public, G… private, D… direct. */
function scopeFor(channel: string): string {
  return channel.startsWith('G') ? 'groups:read' : channel.startsWith('D') ? 'im:read' : 'channels:read';
}

/** The scope Slack named in its `missing_scope` answer (`needed`), when it did. */
function neededScope(err: unknown): string | undefined {
  const needed = ((err as { cause?: { data?: { needed?: unknown } } }).cause?.data ?? {}).needed;
  return typeof needed === 'string' && /^[a-z:.,_-]{1,200}$/.test(needed) ? needed : undefined;
}

export function createSlackSharing(deps: { client: WebClient; logger: Logger }): SlackSharing {
  return {
    async isExternallyShared(channel) {
      try {
        const res = await callSlack('conversations.info', () => deps.client.conversations.info({ channel }));
        const flags = (res.channel ?? {}) as ChannelFlags;
        return flags.is_ext_shared === true || flags.is_pending_ext_shared === true;
      } catch (err) {
        if (slackErrorCode(err) !== 'missing_scope') throw err;
        const scope = neededScope(err) ?? scopeFor(channel);
        deps.logger.warn(
          'cannot tell whether a Slack channel is shared with another organization: the app lacks a scope',
          { channel, scope },
        );
        throw new HandoffError(
          `The Slack app lacks the ${scope} scope, so the bridge cannot tell whether ${channel} is shared with another organization (Slack Connect) and posts no approval link there. Add ${scope} (channels:read and groups:read cover channels) under OAuth & Permissions, reinstall the app, and ask again.`,
          { code: 'slack_missing_scope', status: 502, retry: 'never', cause: err },
        );
      }
    },
  };
}
