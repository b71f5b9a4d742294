import {
  Conversation,
  ConversationList,
  DirectoryPage,
  Me,
  MyDevicesResult,
  NotificationPreferences,
  PublicUser,
} from '@cipherchat/contracts';
import type { z } from 'zod';
import type { ConversationView, MeView, UserView } from './chat-api.js';
import { ApiError, apiFetch } from './http.js';
import type { ApiFetchOptions } from './http.js';

/**
 * The plain REST calls of the UI (directory, profile, conversations, devices, preferences).
 * Every answer is parsed with the contracts schema at this boundary, so a changed or hostile
 * answer becomes a clear error instead of a broken screen. No keys or plaintext pass here.
 */
export class RestApi {
  /**
   * @param refresh refreshes the access cookie once and says whether it worked; the SDK's own
   *   refresh is passed in, so the whole page shares a single refresh (see refresh-lock.ts)
   * @param fetchImpl fetch to use
   * @param onSessionEnded called when a signed-in call is refused even after a refresh (the
   *   session was revoked, e.g. by "log out other devices" elsewhere)
   */
  constructor(
    readonly refresh: () => Promise<boolean>,
    private readonly fetchImpl?: typeof fetch,
    private readonly onSessionEnded?: () => void,
  ) {}

  /** Runs a signed-in call; a final 401 means the session is gone. */
  private async signedIn<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.onSessionEnded?.();
      throw err;
    }
  }

  private async call<S extends z.ZodType>(
    schema: S,
    path: string,
    options: Omit<ApiFetchOptions, 'refresh' | 'fetchImpl'> = {},
  ): Promise<z.infer<S>> {
    const body = await this.signedIn(() =>
      apiFetch(path, { ...options, refresh: this.refresh, fetchImpl: this.fetchImpl }),
    );
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new ApiError(
        'bad_response',
        'The server sent an unexpected answer.',
        200,
        parsed.error.issues,
      );
    return parsed.data;
  }

  /** GET /api/user/me (a 401 here just means "nobody is logged in"). */
  async me(): Promise<MeView> {
    const body = await apiFetch('/api/user/me', {
      refresh: this.refresh,
      fetchImpl: this.fetchImpl,
    });
    const parsed = Me.safeParse(body);
    if (!parsed.success)
      throw new ApiError(
        'bad_response',
        'The server sent an unexpected answer.',
        200,
        parsed.error.issues,
      );
    return toMe(parsed.data);
  }

  /** PATCH /api/user/me */
  async updateMe(patch: { displayName?: string; username?: string }): Promise<MeView> {
    return toMe(await this.call(Me, '/api/user/me', { method: 'PATCH', body: patch }));
  }

  /** GET /api/user/users?query= */
  async searchUsers(
    query: string,
    cursor?: string | null,
  ): Promise<{ users: UserView[]; nextCursor: string | null }> {
    const params = new URLSearchParams({ query, limit: '20' });
    if (cursor) params.set('cursor', cursor);
    const page = await this.call(DirectoryPage, `/api/user/users?${params.toString()}`);
    return { users: page.users.map(toUser), nextCursor: page.nextCursor };
  }

  /** GET /api/user/users/:id */
  async getUser(userId: string): Promise<UserView> {
    return toUser(await this.call(PublicUser, `/api/user/users/${encodeURIComponent(userId)}`));
  }

  /** POST /api/user/me/sessions/revoke-others: every session but this one. */
  async logOutOthers(): Promise<void> {
    await this.signedIn(() =>
      apiFetch('/api/user/me/sessions/revoke-others', {
        method: 'POST',
        body: {},
        refresh: this.refresh,
        fetchImpl: this.fetchImpl,
      }),
    );
  }

  /** POST /api/user/auth/logout (this session; used when the keys are locked). */
  async logOut(): Promise<void> {
    await apiFetch('/api/user/auth/logout', {
      method: 'POST',
      body: {},
      fetchImpl: this.fetchImpl,
    });
  }

  /** POST /api/user/auth/password-reset/request */
  async requestPasswordReset(email: string): Promise<void> {
    await apiFetch('/api/user/auth/password-reset/request', {
      method: 'POST',
      body: { email },
      fetchImpl: this.fetchImpl,
    });
  }

  /** POST /api/user/auth/verify-email */
  async verifyEmail(token: string): Promise<void> {
    await apiFetch('/api/user/auth/verify-email', {
      method: 'POST',
      body: { token },
      fetchImpl: this.fetchImpl,
    });
  }

  /** GET /api/chat/conversations */
  async listConversations(): Promise<ConversationView[]> {
    return (await this.call(ConversationList, '/api/chat/conversations')).conversations.map(
      toConversation,
    );
  }

  /** GET /api/chat/conversations/:id */
  async getConversation(id: string): Promise<ConversationView> {
    return toConversation(
      await this.call(Conversation, `/api/chat/conversations/${encodeURIComponent(id)}`),
    );
  }

  /** POST /api/chat/conversations */
  async createConversation(
    kind: 'direct' | 'group',
    memberIds: string[],
    title?: string,
  ): Promise<ConversationView> {
    const body = kind === 'group' && title ? { kind, memberIds, title } : { kind, memberIds };
    return toConversation(
      await this.call(Conversation, '/api/chat/conversations', { method: 'POST', body }),
    );
  }

  /** POST /api/chat/conversations/:id/members, then the fresh conversation. */
  async addMembers(id: string, userIds: string[]): Promise<ConversationView> {
    await this.signedIn(() =>
      apiFetch(`/api/chat/conversations/${encodeURIComponent(id)}/members`, {
        method: 'POST',
        body: { userIds },
        refresh: this.refresh,
        fetchImpl: this.fetchImpl,
      }),
    );
    return this.getConversation(id);
  }

  /** PATCH /api/chat/conversations/:id/members/:userId (owner only); answers the conversation. */
  async setMemberRole(
    id: string,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<ConversationView> {
    const path = `/api/chat/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`;
    return toConversation(await this.call(Conversation, path, { method: 'PATCH', body: { role } }));
  }

  /** DELETE /api/chat/conversations/:id/members/:userId; answers the fresh conversation (or a stub when I left). */
  async removeMember(id: string, userId: string, myId: string): Promise<ConversationView> {
    await this.signedIn(() =>
      apiFetch(
        `/api/chat/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`,
        {
          method: 'DELETE',
          refresh: this.refresh,
          fetchImpl: this.fetchImpl,
        },
      ),
    );
    if (userId === myId)
      return { id, kind: 'group', title: null, members: [], createdAt: new Date().toISOString() };
    return this.getConversation(id);
  }

  /** GET /api/chat/devices */
  async myDevices(): Promise<
    Array<{ deviceId: number; name: string; hasKeys: boolean; createdAt: string }>
  > {
    return (await this.call(MyDevicesResult, '/api/chat/devices')).devices;
  }

  /** GET /api/notifications/preferences */
  async preferences(): Promise<NotificationPreferences> {
    return this.call(NotificationPreferences, '/api/notifications/preferences');
  }

  /** PUT /api/notifications/preferences */
  async savePreferences(p: NotificationPreferences): Promise<NotificationPreferences> {
    const body = {
      email: p.email,
      digestDelayMinutes: p.digestDelayMinutes,
      digestContent: p.digestContent,
    };
    return this.call(NotificationPreferences, '/api/notifications/preferences', {
      method: 'PUT',
      body,
    });
  }
}

/** Maps the user-service `Me` to the UI's view. */
export function toMe(me: Me): MeView {
  return {
    id: me.id,
    username: me.username,
    displayName: me.displayName,
    email: me.email,
    emailVerified: me.emailVerified,
  };
}

function toUser(u: PublicUser): UserView {
  return { id: u.id, username: u.username, displayName: u.displayName };
}

function toConversation(c: Conversation): ConversationView {
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    members: c.members.map((m) => ({ userId: m.userId, role: m.role })),
    createdAt: c.createdAt,
  };
}
