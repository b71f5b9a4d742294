import { randomBytes } from 'node:crypto';
import {
  fillPath,
  SESSION_REVOKED,
  type Answer,
  type Caller,
} from '@cipherchat/service-kit/testing';
import type { TestUser } from './harness.js';

// The route table of chat-service (issue 15, deliverable 10): every mounted route with one
// realistic request and the answer each caller gets. test/authz-matrix.int.test.ts fails when a
// mounted route has no row here (or a row names a route that is not mounted); test/fuzz.int.test.ts
// fuzzes every row's params, query and body. Adding a route = adding a row.

/** What one matrix cell acts on: the owner's resources, made fresh for every cell. */
export interface World {
  /** Owns everything below: two devices (the routes name device 2, which the stranger lacks). */
  owner: TestUser & { deviceIds: number[] };
  /** A member of both conversations (direct and group; the owner is the group's admin). */
  peer: TestUser;
  /** A logged-in user who shares nothing with the owner. */
  stranger: TestUser;
  direct: string;
  group: string;
  attachmentId: string;
  backupBlob: string;
  /** Another access token of the owner, from a second session (revoked for the "revoked" caller). */
  otherSession: string;
  /** Values only the owner (and the peer, for conversations) may ever see. */
  secrets: string[];
  /** Values whose rows are the owner's data (for the "owner's data unchanged" check). */
  markers: string[];
}

/** One request: a path under the app (params filled), optional JSON or raw body and query. */
export interface Req {
  path: string;
  body?: unknown;
  raw?: Buffer;
  query?: Record<string, string>;
}

/** One row: a mounted route, the request as the owner would make it, and the answers. */
export interface Row {
  method: string;
  /** The full mounted path pattern (`/api/chat/conversations/:id`). */
  path: string;
  /** The owner's request on their resources; the other callers send the same one. */
  req(w: World): Req;
  /** The owner's answer and the stranger's; the other columns default (see {@link answerOf}). */
  owner: Answer;
  stranger: Answer;
  /** Routes outside `/api/chat` need no token and answer every caller alike. */
  open?: boolean;
  /** Owner's tables another caller's accepted request changes by design (and why, in a comment). */
  changes?: string[];
  /** A JSON body for the fuzzer to mutate, when the route takes one. */
  bodyTemplate?: (w: World) => Record<string, unknown>;
}

/** Where chat-service mounts its API. */
export const API = '/api/chat';
const ok = (status = 200): Answer => ({ status });
const notFound: Answer = { status: 404, code: 'not_found' };
/** A random base64 blob (a backup or opaque bytes). */
export const B64 = () => randomBytes(48).toString('base64');

/** The expected answer of one cell. */
export function answerOf(row: Row, caller: Caller): Answer {
  if (row.open) return row.owner;
  switch (caller) {
    case 'owner':
      return row.owner;
    case 'stranger':
      return row.stranger;
    case 'anonymous':
      return { status: 401, code: 'unauthorized' };
    // the revocation list in Redis, checked on every request
    case 'revoked':
      return SESSION_REVOKED;
    case 'deleted':
      return { status: 401, code: 'account_deleted' };
  }
}

const conv = (w: World) => ({ id: w.group });
const member = (w: World) => ({ id: w.group, userId: w.peer.userId });

/** Every route chat-service mounts, with its cells. */
export const rows: Row[] = [
  {
    method: 'GET',
    path: '/health',
    req: () => ({ path: '/health' }),
    owner: ok(),
    stranger: ok(),
    open: true,
  },
  {
    method: 'GET',
    path: '/ready',
    req: () => ({ path: '/ready' }),
    owner: ok(),
    stranger: ok(),
    open: true,
  },
  {
    method: 'GET',
    path: '/metrics',
    req: () => ({ path: '/metrics' }),
    owner: ok(),
    stranger: ok(),
    open: true,
  },
  // my devices: the stranger's request names their own account, and device 2 is not theirs
  {
    method: 'POST',
    path: `${API}/devices`,
    req: () => ({ path: '/devices', body: {} }),
    owner: ok(201),
    stranger: ok(201),
    bodyTemplate: () => ({}),
  },
  {
    method: 'GET',
    path: `${API}/devices`,
    req: () => ({ path: '/devices' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'DELETE',
    path: `${API}/devices/:deviceId`,
    req: () => ({ path: '/devices/2' }),
    owner: ok(204),
    stranger: notFound,
  },
  {
    method: 'PUT',
    path: `${API}/devices/:deviceId/keys`,
    req: (w) => ({ path: '/devices/2/keys', body: w.owner.signal.upload(2, 7) }),
    owner: ok(),
    stranger: { status: 403, code: 'forbidden' },
    bodyTemplate: (w) => w.owner.signal.upload(1, 8),
  },
  {
    method: 'GET',
    path: `${API}/devices/:deviceId/keys/count`,
    req: () => ({ path: '/devices/2/keys/count' }),
    owner: ok(),
    stranger: { status: 403, code: 'forbidden' },
  },
  // key bundles: only for people who share a conversation (issue 15; a stranger opens one first,
  // as the SDK does), so a stranger learns no device count and takes no one-time prekey
  {
    method: 'GET',
    path: `${API}/users/:userId/keys`,
    req: (w) => ({ path: `/users/${w.owner.userId}/keys` }),
    owner: ok(),
    stranger: notFound,
  },
  {
    method: 'GET',
    path: `${API}/users/:userId/devices`,
    req: (w) => ({ path: `/users/${w.owner.userId}/devices` }),
    owner: ok(),
    // only for people who share a conversation (issue 15): a stranger learns no device count
    stranger: notFound,
  },
  // the backup: always the caller's own (the stranger has none)
  {
    method: 'PUT',
    path: `${API}/backup`,
    req: () => ({ path: '/backup', body: { version: 2, blob: B64() } }),
    owner: ok(),
    stranger: { status: 409, code: 'version_conflict' },
    bodyTemplate: () => ({ version: 2, blob: B64() }),
  },
  {
    method: 'GET',
    path: `${API}/backup`,
    req: () => ({ path: '/backup' }),
    owner: ok(),
    stranger: notFound,
  },
  // creating a conversation and adding members need a device proof (the harness adds the
  // caller's own): either leaves it accepted for the caller; safety-guard.int.test.ts refuses a token alone
  {
    method: 'POST',
    path: `${API}/conversations`,
    req: (w) => ({ path: '/conversations', body: { kind: 'group', memberIds: [w.peer.userId] } }),
    owner: ok(201),
    stranger: ok(201),
    bodyTemplate: (w) => ({ kind: 'group', memberIds: [w.peer.userId] }),
  },
  {
    method: 'GET',
    path: `${API}/conversations`,
    req: () => ({ path: '/conversations', query: { limit: '50' } }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'GET',
    path: `${API}/conversations/:id`,
    req: (w) => ({ path: fillPath('/conversations/:id', conv(w)) }),
    owner: ok(),
    stranger: notFound,
  },
  {
    method: 'PATCH',
    path: `${API}/conversations/:id`,
    req: (w) => ({ path: fillPath('/conversations/:id', conv(w)), body: { title: null } }),
    owner: ok(),
    stranger: notFound,
    bodyTemplate: () => ({ title: null }),
  },
  {
    method: 'POST',
    path: `${API}/conversations/:id/members`,
    req: (w) => ({
      path: fillPath('/conversations/:id/members', conv(w)),
      body: { userIds: [w.stranger.userId] },
    }),
    owner: ok(),
    stranger: notFound,
    bodyTemplate: (w) => ({ userIds: [w.stranger.userId] }),
  },
  {
    method: 'DELETE',
    path: `${API}/conversations/:id/members/:userId`,
    req: (w) => ({ path: fillPath('/conversations/:id/members/:userId', member(w)) }),
    owner: ok(204),
    stranger: notFound,
  },
  {
    method: 'PATCH',
    path: `${API}/conversations/:id/members/:userId`,
    req: (w) => ({
      path: fillPath('/conversations/:id/members/:userId', member(w)),
      body: { role: 'admin' },
    }),
    owner: ok(),
    stranger: notFound,
    bodyTemplate: () => ({ role: 'admin' }),
  },
  {
    method: 'POST',
    path: `${API}/attachments`,
    req: (w) => ({
      path: '/attachments',
      query: { conversationId: w.group },
      raw: randomBytes(64),
    }),
    owner: ok(201),
    stranger: notFound,
  },
  {
    method: 'GET',
    path: `${API}/attachments/:id`,
    req: (w) => ({ path: `/attachments/${w.attachmentId}` }),
    owner: ok(),
    stranger: notFound,
  },
  // the service's limits: the same public answer for every signed-in user
  {
    method: 'GET',
    path: `${API}/config`,
    req: () => ({ path: '/config' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'DELETE',
    path: `${API}/attachments/:id`,
    req: (w) => ({ path: `/attachments/${w.attachmentId}` }),
    owner: ok(204),
    stranger: notFound,
  },
  // message requests, blocking, reports, privacy (issue 15): the owner created the group, so it
  // is already accepted for them (accept is idempotent; decline of an accepted one is a conflict).
  // Accept, decline, block, unblock and PUT /privacy need a device proof, like PUT /backup: every
  // caller sends its own (the harness adds it); test/safety-guard.int.test.ts refuses a token alone
  {
    method: 'POST',
    path: `${API}/conversations/:id/accept`,
    req: (w) => ({ path: fillPath('/conversations/:id/accept', conv(w)) }),
    owner: ok(204),
    stranger: notFound,
  },
  {
    method: 'POST',
    path: `${API}/conversations/:id/decline`,
    req: (w) => ({ path: fillPath('/conversations/:id/decline', conv(w)) }),
    owner: { status: 409, code: 'conflict' },
    stranger: notFound,
  },
  // blocks and privacy are the caller's own: a stranger's request acts on the stranger's rows
  {
    method: 'GET',
    path: `${API}/blocks`,
    req: () => ({ path: '/blocks' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'PUT',
    path: `${API}/blocks/:userId`,
    req: (w) => ({ path: `/blocks/${w.peer.userId}` }),
    owner: ok(204),
    stranger: ok(204),
  },
  {
    method: 'DELETE',
    path: `${API}/blocks/:userId`,
    req: (w) => ({ path: `/blocks/${w.peer.userId}` }),
    owner: ok(204),
    stranger: ok(204),
  },
  // a report is only about someone the reporter shares a conversation with; one that blocks too
  // needs a device proof (the harness sends one on every report)
  {
    method: 'POST',
    path: `${API}/reports`,
    req: (w) => ({
      path: '/reports',
      body: { userId: w.peer.userId, conversationId: w.group, reason: 'spam' },
    }),
    owner: ok(202),
    stranger: notFound,
    bodyTemplate: (w) => ({
      userId: w.peer.userId,
      conversationId: w.group,
      reason: 'spam',
      note: 'n',
    }),
  },
  {
    method: 'GET',
    path: `${API}/privacy`,
    req: () => ({ path: '/privacy' }),
    owner: ok(),
    stranger: ok(),
  },
  {
    method: 'PUT',
    path: `${API}/privacy`,
    req: () => ({ path: '/privacy', body: { readReceipts: false, typing: true, lastSeen: false } }),
    owner: ok(),
    stranger: ok(),
    bodyTemplate: () => ({ readReceipts: false, typing: true, lastSeen: false }),
  },
];
