import type { ChatClient } from '../client/chat-client.js';
import type { LogInResult } from '../client/client-types.js';
import { ApiError } from '../transport/api-error.js';
import type { CliSession, SavedSession } from './cli-session.js';
import { failWith } from './output.js';

/** What the account commands need from the command line. */
export interface AccountContext {
  client: ChatClient;
  session: CliSession;
  email: string | undefined;
  password: string | undefined;
  recoveryKey: string | undefined;
}

/** Within this of its expiry a saved access token is refreshed before use. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * Re-opens a saved session without the password: its tokens from the sealed state, a refresh
 * only when the access token is (nearly) expired, then `resume`.
 * @param ctx the command line
 * @param saved the session file
 * @param connect whether to connect the socket
 * @returns whether the session is live (false: it ended, e.g. logged out elsewhere)
 */
async function resumeSaved(ctx: AccountContext, saved: SavedSession, connect: boolean): Promise<boolean> {
  const tokens = await ctx.session.load(saved);
  if (!tokens) return false;
  ctx.client.api.setTokens(tokens);
  const expires = tokens.accessTokenExpiresAt ? Date.parse(tokens.accessTokenExpiresAt) : 0;
  if (!tokens.accessToken || !(expires - Date.now() > EXPIRY_MARGIN_MS)) {
    if (!(await ctx.client.api.refreshNow())) return false;
  }
  try {
    return (await ctx.client.resume({ connect })) !== undefined;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

/**
 * A password login that saves the session (`login`, `signup`'s sibling, or a command run
 * without a saved session but with a password). A saved session of the same account is ended
 * first (its refresh token revoked; device and history kept), so logins do not pile up.
 * @param ctx the command line
 * @param connect whether to connect the socket
 * @returns the login result
 */
export async function passwordLogin(ctx: AccountContext, connect: boolean): Promise<LogInResult> {
  const email = ctx.email ?? failWith('usage_error', '--email is required');
  const password = ctx.password ?? failWith('usage_error', '--password or CHAT_PASSWORD is required');
  const previous = await ctx.session.find(email);
  if (previous && (await resumeSaved(ctx, previous, false).catch(() => false))) await ctx.client.logOut();
  const r = await ctx.client.logIn({ email, password, connect, ...(ctx.recoveryKey ? { recoveryKey: ctx.recoveryKey } : {}) });
  await ctx.session.save(email, r.user.id, ctx.client.api.getTokens());
  return r;
}

/**
 * Opens the account for a command: the saved session when there is one (no new login, no
 * "new sign-in" email), else a password login that is then saved.
 * @param ctx the command line
 * @param connect whether to connect the socket
 */
export async function openAccount(ctx: AccountContext, connect: boolean): Promise<void> {
  const saved = await ctx.session.find(ctx.email);
  if (saved && (await resumeSaved(ctx, saved, connect))) return;
  if (saved) await ctx.session.remove(saved, false);
  if (!ctx.password) {
    failWith(
      'login_required',
      saved
        ? 'the saved session has ended (logged out elsewhere, or the password changed): run chat-cli login --email E'
        : 'not logged in: run chat-cli login --email E first (or pass --password / CHAT_PASSWORD)',
      1,
    );
  }
  await passwordLogin(ctx, connect);
}

/**
 * `logout`: removes this terminal's device from the account (its own proof) unless
 * `keepDevice`, revokes the session and forgets it; without `keepDevice` the sealed state file
 * is deleted too. If the removal fails nothing is logged out and the error says so.
 * @param ctx the command line
 * @param keepDevice keep the device (and the state file) for the next `login`
 * @returns what happened
 */
export async function logOutCommand(
  ctx: AccountContext,
  keepDevice: boolean,
): Promise<{ loggedOut: boolean; deviceRemoved: boolean; email?: string }> {
  const saved = await ctx.session.find(ctx.email);
  if (!saved) return { loggedOut: false, deviceRemoved: false };
  if (!(await resumeSaved(ctx, saved, false))) {
    // The session already ended elsewhere: nothing to revoke, and no token to remove the device with.
    await ctx.session.remove(saved, false);
    return { loggedOut: true, deviceRemoved: false, email: saved.file.email };
  }
  let deviceRemoved = false;
  try {
    ({ deviceRemoved } = await ctx.client.logOut({ forget: !keepDevice, removeDevice: !keepDevice }));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    failWith(
      err instanceof ApiError ? err.code : 'network_error',
      `not logged out: this terminal's device could not be removed (${why}); try again, or run logout --keep-device`,
      1,
    );
  }
  await ctx.session.remove(saved, !keepDevice);
  return { loggedOut: true, deviceRemoved, email: saved.file.email };
}
