import { randomBytes } from 'node:crypto';
import { withTransaction } from '@cipherchat/service-kit';
import type { Caller, TokenIssuer } from '@cipherchat/service-kit/testing';
import { afterUserForgotten, forgetDeletedUser } from '../../src/domain/accounts.js';
import { api, createUser, deviceSecretOf, type Instance, type Res } from './harness.js';
import { API, B64, type Req, type Row, type World } from './routes.js';

// The fixtures of chat-service's route table (routes.ts): a fresh world per cell, the callers'
// tokens, sending a row's request, and a fingerprint of everything stored.

/**
 * Sends a row's request as it is over HTTP (device secrets and proofs as the harness adds them for
 * the token's user, so a caller acts with everything a real client of that account would have).
 * @param inst instance
 * @param row the row (open rows are sent outside `/api/chat`)
 * @param token access token (none: anonymous)
 * @param req the request
 * @returns the answer, with its raw text
 */
export async function send(
  inst: Instance,
  row: Pick<Row, 'method' | 'open'>,
  token: string | undefined,
  req: Req,
): Promise<Res & { text: string }> {
  const qs = req.query ? `?${new URLSearchParams(req.query).toString()}` : '';
  if (row.open || req.raw) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (req.raw) headers['content-type'] = 'application/octet-stream';
    const res = await fetch(`${inst.url}${row.open ? '' : API}${req.path}${qs}`, {
      method: row.method,
      headers,
      body: req.raw ? new Uint8Array(req.raw) : undefined,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, text };
  }
  const r = await api(inst.url, token, row.method, `${req.path}${qs}`, req.body);
  return { ...r, text: typeof r.body === 'string' ? r.body : (JSON.stringify(r.body) ?? '') };
}

/**
 * Builds a fresh world: owner (2 devices), peer, stranger, a direct and a group conversation, the
 * owner's backup and an attachment in the group.
 * @param inst instance
 * @param mint token mint
 * @returns the world
 */
export async function buildWorld(inst: Instance, mint: TokenIssuer): Promise<World> {
  const [owner, peer, stranger] = await Promise.all([
    createUser(inst, mint, 2),
    createUser(inst, mint),
    createUser(inst, mint),
  ]);
  const direct = await api(inst.url, owner.token, 'POST', '/conversations', {
    kind: 'direct',
    memberIds: [peer.userId],
  });
  const group = await api(inst.url, owner.token, 'POST', '/conversations', {
    kind: 'group',
    memberIds: [peer.userId],
  });
  const backupBlob = B64();
  const backup = await api(inst.url, owner.token, 'PUT', '/backup', {
    version: 1,
    blob: backupBlob,
  });
  const att = await send(inst, { method: 'POST' }, owner.token, {
    path: '/attachments',
    query: { conversationId: group.body.id },
    raw: randomBytes(32),
  });
  if (
    direct.status !== 201 ||
    group.status !== 201 ||
    backup.status !== 200 ||
    att.status !== 201
  ) {
    throw new Error(
      `world set-up failed: ${JSON.stringify([direct, group, backup, att].map((r) => r.status))}`,
    );
  }
  const secrets = [
    direct.body.id,
    group.body.id,
    att.body.id,
    backupBlob,
    ...owner.deviceIds.map((d) => deviceSecretOf(owner.userId, d) as string),
  ];
  return {
    owner,
    peer,
    stranger,
    direct: direct.body.id,
    group: group.body.id,
    attachmentId: att.body.id,
    backupBlob,
    otherSession: await mint.mint(owner.userId),
    secrets,
    markers: [owner.userId, direct.body.id, group.body.id, att.body.id],
  };
}

/**
 * Revokes the owner's second session the way user-service does on logout: its session id on
 * the revocation list in Redis.
 * @param inst instance
 * @param w the world
 */
export async function revokeOtherSession(inst: Instance, w: World): Promise<void> {
  const payload = JSON.parse(
    Buffer.from(w.otherSession.split('.')[1] ?? '', 'base64url').toString(),
  ) as { sid: string };
  await inst.app.ctx.revocations.revokeSessions([payload.sid]);
}

/**
 * Deletes the owner's account the way the `user.deleted.v1` consumer does.
 * @param inst instance
 * @param w the world
 */
export async function deleteOwner(inst: Instance, w: World): Promise<void> {
  const deps = inst.app.ctx.deps;
  const keys = await withTransaction(inst.app.ds, (tx) =>
    forgetDeletedUser(deps, tx, w.owner.userId),
  );
  await afterUserForgotten(deps, w.owner.userId, keys);
}

/**
 * The token a caller sends (after revoking or deleting what that caller needs).
 * @param inst instance
 * @param w the world
 * @param caller who calls
 * @returns the token, or undefined for no token
 */
export async function tokenOf(
  inst: Instance,
  w: World,
  caller: Caller,
): Promise<string | undefined> {
  switch (caller) {
    case 'owner':
      return w.owner.token;
    case 'stranger':
      return w.stranger.token;
    case 'anonymous':
      return undefined;
    case 'revoked':
      await revokeOtherSession(inst, w);
      return w.otherSession;
    case 'deleted':
      await deleteOwner(inst, w);
      return w.owner.token;
  }
}

/** Tables whose rows change on their own (the outbox relay marks events published). */
const BACKGROUND_TABLES = new Set(['outbox', 'inbox', 'migrations', 'typeorm_metadata']);

/**
 * A fingerprint of the chat schema: per table, the row count and md5 of its rows (only the rows
 * mentioning one of `markers`, when given), in one query. Equal fingerprints: nothing was stored,
 * changed or deleted.
 * @param inst instance
 * @param markers restrict to rows containing one of these values
 * @returns table → `count:md5`
 */
export async function fingerprint(
  inst: Instance,
  markers: readonly string[] = [],
): Promise<Record<string, string>> {
  const tables = (
    (await inst.app.ds.query(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'chat' AND table_type = 'BASE TABLE' ORDER BY 1`,
    )) as { t: string }[]
  )
    .map((r) => r.t)
    .filter((t) => !BACKGROUND_TABLES.has(t));
  const where = markers.length ? `WHERE x::text ~ $1` : '';
  const parts = tables.map(
    (t) =>
      `SELECT '${t}' AS t, count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM chat."${t}" x ${where}`,
  );
  const rowsOut = (await inst.app.ds.query(
    parts.join(' UNION ALL '),
    markers.length ? [markers.join('|')] : [],
  )) as { t: string; h: string }[];
  return Object.fromEntries(rowsOut.map((r) => [r.t, r.h]));
}
