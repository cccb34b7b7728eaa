/**
 * What the fake Slack workspace holds: people, channels with their members, messages (with
 * reactions), ephemeral messages, opened views. The HTTP side (fake-slack-api.ts) reads and
 * writes it the way Slack's Web API would.
 */
export interface FakeSlackUser {
  readonly id: string;
  readonly name: string;
  readonly realName: string;
  readonly displayName?: string;
  readonly email?: string;
  readonly isBot?: boolean;
  readonly deleted?: boolean;
}

export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  /** A person's id; the bot's user id for the bot's posts. */
  readonly user: string;
  /** Set on the bot's posts. */
  readonly botId?: string;
  readonly text: string;
  readonly blocks?: unknown[];
  readonly unfurlLinks?: boolean;
  readonly unfurlMedia?: boolean;
  /** Reaction names on the message. */
  readonly reactions: string[];
  /** True once chat.update replaced it. */
  readonly edited?: boolean;
}

export interface FakeEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly threadTs?: string;
  readonly messageTs: string;
  readonly text: string;
  readonly blocks?: unknown[];
}

export interface FakeView {
  readonly id: string;
  readonly triggerId: string;
  readonly view: Record<string, unknown>;
}

export const fakeTeam = { id: 'T0FAKE0001', domain: 'fake-workspace' };
export const fakeBot = { userId: 'U0BOT00001', botId: 'B0BOT00001', appId: 'A0FAKE0001', name: 'handoff' };

export class FakeSlackState {
  readonly users: FakeSlackUser[] = [];
  readonly messages: FakeMessage[] = [];
  readonly ephemeral: FakeEphemeral[] = [];
  readonly views: FakeView[] = [];
  /** channel id → member user ids; a channel missing here has everyone as a member. */
  readonly members = new Map<string, Set<string>>();
  /** Scopes the app was not given (conversations.info then answers missing_scope, as Slack does). */
  readonly withoutScopes = new Set<string>();
  /** Channels shared with another organization (Slack Connect), or with the invitation pending. */
  readonly externallyShared = new Map<string, 'shared' | 'pending'>();
  private lastTs = 1_700_000_000_000_000;

  /** A fresh, strictly increasing Slack ts ("1700000000.000123"). */
  nextTs(): string {
    const micros = Math.max(this.lastTs + 1, Date.now() * 1000);
    this.lastTs = micros;
    const s = String(micros);
    return `${s.slice(0, 10)}.${s.slice(10, 16)}`;
  }

  user(id: string): FakeSlackUser | undefined {
    return this.users.find((u) => u.id === id);
  }

  isMember(channel: string, user: string): boolean {
    const members = this.members.get(channel);
    return members === undefined || members.has(user);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Messages of one thread (its parent included), oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && (m.ts === threadTs || m.threadTs === threadTs));
  }
}

/** A partner organization's team in a Slack Connect channel. */
const partnerTeam = 'T0PARTNER1';

/** The channel object of conversations.info (a public channel the bot is in). */
export function channelObject(id: string, sharing: 'shared' | 'pending' | undefined): Record<string, unknown> {
  const created = 1_690_000_000;
  return {
    id,
    name: `project-${id.slice(-4).toLowerCase()}`,
    is_channel: true,
    is_group: false,
    is_im: false,
    is_mpim: false,
    is_private: false,
    created,
    is_archived: false,
    is_general: false,
    unlinked: 0,
    name_normalized: `project-${id.slice(-4).toLowerCase()}`,
    is_shared: sharing === 'shared',
    is_org_shared: false,
    is_ext_shared: sharing === 'shared',
    is_pending_ext_shared: sharing === 'pending',
    pending_shared: sharing === 'pending' ? [partnerTeam] : [],
    pending_connected_team_ids: sharing === 'pending' ? [partnerTeam] : [],
    context_team_id: fakeTeam.id,
    updated: created * 1000 + 512,
    parent_conversation: null,
    creator: 'U0CREATOR1',
    shared_team_ids: sharing === 'shared' ? [fakeTeam.id, partnerTeam] : [fakeTeam.id],
    is_member: true,
    last_read: '0000000000.000000',
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: 'Agents at work', creator: 'U0CREATOR1', last_set: created },
    previous_names: [],
  };
}

/** Slack's user object as users.info / users.list / users.lookupByEmail return it. */
export function userObject(user: FakeSlackUser): Record<string, unknown> {
  return {
    id: user.id,
    team_id: fakeTeam.id,
    name: user.name,
    deleted: user.deleted ?? false,
    color: '9f69e7',
    real_name: user.realName,
    tz: 'Europe/Amsterdam',
    tz_label: 'Central European Time',
    tz_offset: 3600,
    profile: {
      title: '',
      phone: '',
      skype: '',
      real_name: user.realName,
      real_name_normalized: user.realName,
      display_name: user.displayName ?? '',
      display_name_normalized: user.displayName ?? '',
      status_text: '',
      status_emoji: '',
      avatar_hash: 'ge3b51ca72de',
      ...(user.email ? { email: user.email } : {}),
      image_24: 'https://a.slack-edge.com/df10d/img/avatars/ava_0024-24.png',
      image_48: 'https://a.slack-edge.com/df10d/img/avatars/ava_0024-48.png',
      team: fakeTeam.id,
    },
    is_admin: false,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: user.isBot ?? false,
    is_app_user: false,
    updated: 1_699_000_000,
    is_email_confirmed: true,
    who_can_share_contact_card: 'EVERYONE',
  };
}

/** A message as chat.postMessage returns it and as a `message` event carries it. */
export function messageObject(m: FakeMessage): Record<string, unknown> {
  return {
    type: 'message',
    ...(m.botId
      ? {
          bot_id: m.botId,
          app_id: fakeBot.appId,
          bot_profile: {
            id: m.botId,
            app_id: fakeBot.appId,
            name: fakeBot.name,
            deleted: false,
            team_id: fakeTeam.id,
            updated: 1_699_000_000,
          },
        }
      : {}),
    user: m.user,
    text: m.text,
    ts: m.ts,
    team: fakeTeam.id,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
  };
}

/** Every piece of text a block shows (section text and fields, context, button labels and URLs). */
function blockTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(blockTexts);
  if (typeof node !== 'object' || node === null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'text' || key === 'url') && typeof value === 'string') out.push(value);
    else if (key !== 'value') out.push(...blockTexts(value));
  }
  return out;
}

const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What a person sees of a message: its blocks when it has them (else its text), entities decoded. */
export function shownText(message: { readonly text: string; readonly blocks?: unknown[] }): string {
  return unescape(message.blocks?.length ? blockTexts(message.blocks).join('\n') : message.text);
}
