import type { Caller } from '@cipherchat/service-kit/testing';
import { call, login, newAccount, registerOnly, type Account } from './harness.js';
import type { Creds, Person, World } from './routes.js';

// The fixtures of user-service's route table (routes.ts): people signed up over OPAQUE (with
// cheap key stretching), a world per row, and each caller's credentials.

function sessionOf(token: string): string {
  return (
    JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sid: string;
    }
  ).sid;
}

/**
 * Cheap key stretching: the matrix signs up two people per row; the server never sees the
 * difference. (The undefined headers below are the harness's default: a CLI client.)
 */
const keyStretching = { 'argon2id-custom': { iterations: 1, memory: 64, parallelism: 1 } } as const;

async function signIn(base: string, acc: Account): Promise<Person> {
  const { finish } = await login(base, acc, undefined, { keyStretching });
  if (finish?.status !== 200) throw new Error(`login failed: ${finish?.status}`);
  return {
    acc,
    userId: finish.body.user.id,
    access: finish.body.accessToken,
    refresh: finish.body.refreshToken,
    sessionId: sessionOf(finish.body.accessToken),
  };
}

async function signUp(base: string): Promise<Person> {
  const acc = newAccount('mx');
  const r = await registerOnly(base, acc, undefined, { keyStretching });
  // register/finish opens no session (202 for a free and a taken address alike): log in
  if (r.status !== 202)
    throw new Error(`registration failed: ${r.status} ${JSON.stringify(r.body)}`);
  return signIn(base, acc);
}

/**
 * A fresh world: the owner (two sessions) and a stranger.
 * @param base service URL
 * @returns the world
 */
export async function buildWorld(base: string): Promise<World> {
  const owner = await signUp(base);
  const stranger = await signUp(base);
  const other = await signIn(base, owner.acc);
  return { base, owner, other, stranger };
}

/**
 * The credentials of a caller (after revoking or deleting what that caller needs).
 * @param w the world
 * @param caller who calls
 * @returns their tokens
 */
export async function credsOf(w: World, caller: Caller): Promise<Creds> {
  switch (caller) {
    case 'owner':
      return { access: w.owner.access, refresh: w.owner.refresh };
    case 'stranger':
      return { access: w.stranger.access, refresh: w.stranger.refresh };
    case 'anonymous':
      return {};
    case 'revoked': {
      const out = await call(w.base, 'POST', '/auth/logout', { refreshToken: w.other.refresh });
      if (out.status !== 204) throw new Error(`logout failed: ${out.status}`);
      return { access: w.other.access, refresh: w.other.refresh };
    }
    case 'deleted': {
      const del = await call(w.base, 'DELETE', '/me', undefined, {
        authorization: `Bearer ${w.owner.access}`,
      });
      if (del.status !== 204)
        throw new Error(`deletion failed: ${del.status} ${JSON.stringify(del.body)}`);
      return { access: w.owner.access, refresh: w.owner.refresh };
    }
  }
}
