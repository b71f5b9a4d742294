import {
  DirectoryPage,
  Me,
  MySessions,
  PublicUser,
  RevokeOthersAnswer,
  type UpdateMeBody,
} from '@cipherchat/contracts';
import type { ApiClient } from './api-client.js';

/**
 * user-service's REST routes (`/api/user`) beyond the OPAQUE flows (which `ChatClient` runs),
 * typed and parsed with the contracts' schemas.
 */
export class UserEndpoints {
  /** @param http the SDK's HTTP client (auth, refresh, errors) */
  constructor(private readonly http: ApiClient) {}

  /**
   * `GET /me`.
   * @returns the signed-in user
   * @throws {ApiError} 401 when nobody is signed in (after one refresh attempt)
   */
  me(): Promise<Me> {
    return this.http.request('user', 'GET', '/me', { schema: Me });
  }

  /**
   * `PATCH /me`: changes my display name and/or username.
   * @param patch at least one field
   * @returns the updated user
   * @throws {ApiError} `username_taken`, `validation_error`
   */
  updateMe(patch: UpdateMeBody): Promise<Me> {
    return this.http.request('user', 'PATCH', '/me', { json: patch, schema: Me });
  }

  /**
   * `GET /users?query=&limit=&cursor=`: the directory (never shows emails).
   * @param query text to search usernames and display names for
   * @param options page size (default 20) and the `nextCursor` of the previous page
   * @returns one page of users and the cursor of the next (null on the last page)
   */
  searchUsers(query: string, options: { limit?: number; cursor?: string | null } = {}): Promise<DirectoryPage> {
    const params = new URLSearchParams({ query, limit: String(options.limit ?? 20) });
    if (options.cursor) params.set('cursor', options.cursor);
    return this.http.request('user', 'GET', `/users?${params.toString()}`, { schema: DirectoryPage });
  }

  /**
   * `GET /users/:id`.
   * @param userId user id
   * @returns what anyone may see of the user
   * @throws {ApiError} `not_found`
   */
  getUser(userId: string): Promise<PublicUser> {
    return this.http.request('user', 'GET', `/users/${encodeURIComponent(userId)}`, { schema: PublicUser });
  }

  /** @returns my sessions (`GET /me/sessions`) */
  async sessions(): Promise<MySessions['sessions']> {
    return (await this.http.request('user', 'GET', '/me/sessions', { schema: MySessions })).sessions;
  }

  /**
   * `POST /me/sessions/revoke-others`: ends every session of mine but this one.
   * @returns how many sessions ended
   */
  async revokeOtherSessions(): Promise<number> {
    return (await this.http.request('user', 'POST', '/me/sessions/revoke-others', { json: {}, schema: RevokeOthersAnswer })).revoked;
  }

  /**
   * `POST /auth/logout`: ends this session (the refresh token in the body, or the cookie).
   * Without key material: `ChatClient.logOut` also flushes the backup and closes the socket.
   * @param refreshToken bearer clients' refresh token
   */
  async logOut(refreshToken?: string): Promise<void> {
    await this.http.request('user', 'POST', '/auth/logout', { json: refreshToken ? { refreshToken } : {}, auth: false });
  }
}
