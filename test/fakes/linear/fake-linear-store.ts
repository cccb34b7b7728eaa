import { randomUUID } from 'node:crypto';

/**
 * The state behind the fake Linear API: users, issues, comments and reactions, and the
 * shapes the SDK's GraphQL fragments expect back (`Issue`, `Comment`, `User`… with their
 * `__typename`, nested `{id}` references and the arrays the SDK's models map over).
 */
export interface FakeUser {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly email: string;
  readonly admin: boolean;
  readonly app: boolean;
}

export interface FakeIssue {
  readonly id: string;
  readonly identifier: string;
  readonly title: string;
  assigneeId: string | undefined;
  creatorId: string | undefined;
}

export interface FakeComment {
  readonly id: string;
  readonly issueId: string;
  body: string;
  readonly parentId: string | undefined;
  readonly userId: string | undefined;
  /** Written by an app or integration (Linear sets `botActor`). */
  readonly bot: boolean;
  readonly createdAt: number;
  updatedAt: number;
  editedAt: number | undefined;
  readonly reactions: Array<{ id: string; emoji: string; userId: string; createdAt: number }>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ref = (id: string | undefined) => (id ? { id } : null);

export class FakeLinearStore {
  readonly users = new Map<string, FakeUser>();
  readonly issues = new Map<string, FakeIssue>();
  /** In creation order. */
  readonly comments = new Map<string, FakeComment>();
  readonly deleted = new Set<string>();

  addUser(user: Partial<FakeUser> & { name: string }): FakeUser {
    const full: FakeUser = {
      id: randomUUID(),
      displayName: user.name.toLowerCase().split(' ')[0]!,
      email: `${user.name.toLowerCase().split(' ')[0]}@example.com`,
      admin: false,
      app: false,
      ...user,
    };
    this.users.set(full.id, full);
    return full;
  }

  addIssue(issue: {
    identifier: string;
    title?: string;
    assigneeId?: string;
    creatorId?: string;
    id?: string;
  }): FakeIssue {
    const full: FakeIssue = {
      id: issue.id ?? randomUUID(),
      identifier: issue.identifier,
      title: issue.title ?? `Issue ${issue.identifier}`,
      assigneeId: issue.assigneeId,
      creatorId: issue.creatorId,
    };
    this.issues.set(full.id, full);
    return full;
  }

  /** An issue by UUID or identifier, as Linear's `issue(id:)` and `issueId` inputs accept. */
  findIssue(idOrKey: string): FakeIssue | undefined {
    return (
      this.issues.get(idOrKey) ??
      [...this.issues.values()].find((i) => i.identifier.toLowerCase() === idOrKey.toLowerCase())
    );
  }

  addComment(comment: {
    issueId: string;
    body: string;
    userId?: string;
    parentId?: string;
    bot?: boolean;
    id?: string;
    createdAt?: number;
  }): FakeComment {
    const now = comment.createdAt ?? Date.now();
    const full: FakeComment = {
      id: comment.id ?? randomUUID(),
      issueId: comment.issueId,
      body: comment.body,
      parentId: comment.parentId,
      userId: comment.userId,
      bot: comment.bot ?? false,
      createdAt: now,
      updatedAt: now,
      editedAt: undefined,
      reactions: [],
    };
    this.comments.set(full.id, full);
    return full;
  }

  commentsOf(issueId: string): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.issueId === issueId);
  }

  userShape(u: FakeUser, viewerId?: string): Record<string, unknown> {
    return {
      __typename: 'User',
      id: u.id,
      name: u.name,
      displayName: u.displayName,
      email: u.email,
      active: true,
      admin: u.admin,
      owner: false,
      guest: false,
      app: u.app,
      isMe: u.id === viewerId,
      isAssignable: !u.app,
      isMentionable: true,
      avatarUrl: null,
      avatarBackgroundColor: '#5e6ad2',
      initials: u.name.slice(0, 2).toUpperCase(),
      url: `https://linear.app/example/profiles/${u.displayName}`,
      createdAt: iso(Date.UTC(2025, 0, 1)),
      updatedAt: iso(Date.UTC(2025, 0, 1)),
      archivedAt: null,
      lastSeen: null,
      timezone: 'Europe/Berlin',
      description: null,
      title: null,
      statusEmoji: null,
      statusLabel: null,
      statusUntilAt: null,
      disableReason: null,
      gitHubUserId: null,
      createdIssueCount: 0,
      supportsAgentSessions: false,
      canAccessAnyPublicTeam: true,
      calendarHash: null,
      inviteHash: 'scrubbed',
    };
  }

  issueShape(i: FakeIssue): Record<string, unknown> {
    const team = i.identifier.split('-')[0]!;
    return {
      __typename: 'Issue',
      id: i.id,
      identifier: i.identifier,
      number: Number(i.identifier.split('-')[1]),
      title: i.title,
      description: null,
      url: `https://linear.app/example/issue/${i.identifier}`,
      branchName: `${i.identifier.toLowerCase()}-branch`,
      priority: 0,
      priorityLabel: 'No priority',
      estimate: null,
      sortOrder: 0,
      boardOrder: 0,
      prioritySortOrder: 0,
      subIssueSortOrder: null,
      customerTicketCount: 0,
      labelIds: [],
      previousIdentifiers: [],
      reactionData: [],
      reactions: [],
      trashed: null,
      inheritsSharedAccess: true,
      sharedAccess: {
        __typename: 'IssueSharedAccess',
        isShared: false,
        sharedWithCount: 0,
        sharedWithUsers: [],
        disallowedIssueFields: [],
        viewerHasOnlySharedAccess: false,
      },
      integrationSourceType: null,
      syncedWith: null,
      botActor: null,
      dueDate: null,
      createdAt: iso(Date.UTC(2025, 5, 1)),
      updatedAt: iso(Date.UTC(2025, 5, 1)),
      archivedAt: null,
      assignee: ref(i.assigneeId),
      creator: ref(i.creatorId),
      team: { id: `team-${team}` },
      state: { id: 'state-todo' },
      parent: null,
      project: null,
      cycle: null,
      delegate: null,
    };
  }

  commentShape(c: FakeComment): Record<string, unknown> {
    return {
      __typename: 'Comment',
      id: c.id,
      body: c.body,
      url: `https://linear.app/example/issue/${this.issues.get(c.issueId)?.identifier ?? 'X-1'}#comment-${c.id.slice(0, 8)}`,
      issueId: c.issueId,
      parentId: c.parentId ?? null,
      issue: { id: c.issueId },
      parent: ref(c.parentId),
      user: ref(c.userId),
      botActor: c.bot
        ? {
            __typename: 'ActorBot',
            id: 'bot-integration',
            type: 'integration',
            subType: null,
            name: 'Integration',
            userDisplayName: null,
            avatarUrl: null,
          }
        : null,
      externalUser: null,
      reactionData: [],
      reactions: c.reactions.map((r) => this.reactionShape(c, r)),
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.updatedAt),
      editedAt: c.editedAt ? iso(c.editedAt) : null,
      archivedAt: null,
      resolvedAt: null,
      quotedText: null,
      documentContentId: null,
      projectUpdateId: null,
      initiativeUpdateId: null,
      projectId: null,
      initiativeId: null,
      resolvingCommentId: null,
      agentSession: null,
      documentContent: null,
      externalThread: null,
      syncedWith: null,
    };
  }

  reactionShape(c: FakeComment, r: FakeComment['reactions'][number]): Record<string, unknown> {
    return {
      __typename: 'Reaction',
      id: r.id,
      emoji: r.emoji,
      comment: { id: c.id },
      user: { id: r.userId },
      issue: null,
      externalUser: null,
      projectUpdate: null,
      initiativeUpdate: null,
      createdAt: iso(r.createdAt),
      updatedAt: iso(r.createdAt),
      archivedAt: null,
    };
  }
}
