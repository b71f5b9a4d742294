import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TokenIssuer } from '@cipherchat/service-kit/testing';
import {
  api,
  connect,
  createTestEnv,
  createUser,
  fakeBody,
  request,
  SignalIdentity,
  type ClientSocket,
  type Instance,
  type TestEnv,
  type TestUser,
} from './harness.js';

// The people of the abuse-resistance tests (issue 15: requests, blocks, privacy): one instance
// per test file, fresh users, the conversations between them and the messages they send.

/** A `presence` event as a test sees it. */
export type Presence = { userId: string; online: boolean; lastSeenAt: string | null };

/** One chat-service instance for a test file, and fresh people on it. */
export class People {
  /** The file's environment (set before the first test). */
  env!: TestEnv;
  /** The file's instance (set before the first test). */
  inst!: Instance;

  /**
   * Starts an instance before the file's tests and closes everything after them.
   * @param prefix database name prefix
   * @param overrides config of the instance (limits a test file needs small)
   * @returns the people of that instance
   */
  static use(prefix: string, overrides: Record<string, string> = {}): People {
    const people = new People();
    beforeAll(async () => {
      people.env = await createTestEnv(prefix);
      people.inst = await people.env.start(overrides);
    });
    afterAll(async () => {
      await people.env?.close();
    });
    return people;
  }

  /**
   * @param devices how many keyed devices
   * @returns a fresh user
   */
  user(devices = 1): Promise<TestUser & { deviceIds: number[] }> {
    return createUser(this.inst, this.env.mint, devices);
  }

  /**
   * Opens a conversation (201 expected).
   * @param from who opens it
   * @param kind direct or group
   * @param to the other members
   * @returns its id
   */
  async open(from: TestUser, kind: 'direct' | 'group', to: TestUser[]): Promise<string> {
    const r = await api(this.inst.url, from.token, 'POST', '/conversations', {
      kind,
      memberIds: to.map((u) => u.userId),
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  }

  /** @returns two users in a direct conversation that both have accepted */
  async friends(): Promise<{ me: TestUser; friend: TestUser; id: string }> {
    const me = await this.user();
    const friend = await this.user();
    const id = await this.open(friend, 'direct', [me]);
    expect((await api(this.inst.url, me.token, 'POST', `/conversations/${id}/accept`)).status).toBe(
      204,
    );
    return { me, friend, id };
  }

  /**
   * @param u a member
   * @param id the conversation
   * @returns the member's state in it, as they see it
   */
  async myState(u: TestUser, id: string): Promise<string> {
    return (await api(this.inst.url, u.token, 'GET', `/conversations/${id}`)).body
      .myState as string;
  }

  /**
   * @param sql a query answering one row with `n`
   * @param params its parameters
   * @returns `n`
   */
  async count(sql: string, params: unknown[]): Promise<number | undefined> {
    return ((await this.inst.app.ds.query(sql, params)) as { n: number }[])[0]?.n;
  }

  /**
   * Sends `n` messages of one envelope each to `to`, one after another, from a socket of its own.
   * @param from the sender
   * @param conversationId where
   * @param to the recipients
   * @param n how many
   * @returns each answer: `ok` or the error code
   */
  async sends(from: TestUser, conversationId: string, to: TestUser[], n: number): Promise<string[]> {
    const socket = await connect(this.inst.url, from.token, from.deviceId);
    try {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const ack = await sendTo(socket, conversationId, to);
        out.push(ack.ok ? 'ok' : ack.error.code);
      }
      return out;
    } finally {
      socket.close();
    }
  }
}

/**
 * Sends one fake envelope to the first device of each recipient.
 * @param s the sender's socket
 * @param conversationId where
 * @param to the recipients
 * @returns the ack
 */
export function sendTo(s: ClientSocket, conversationId: string, to: TestUser[]) {
  return request<{ messageId: string }>(s, 'message:send', {
    conversationId,
    clientMessageId: randomUUID(),
    envelopes: to.map((u) => ({
      userId: u.userId,
      deviceId: u.deviceId,
      type: 1,
      body: fakeBody(),
    })),
  });
}

/**
 * @param socket a socket
 * @returns every `presence` event it receives from now on
 */
export function presenceOf(socket: ClientSocket): Presence[] {
  const got: Presence[] = [];
  socket.on('presence', (p) => got.push(p));
  return got;
}

/**
 * A fresh account (one device, no keys) that opened a direct conversation with `userId`: someone
 * who may fetch their key bundles (only people who share a conversation may). Opening one needs
 * the device's proof, which the harness sends.
 * @param inst instance
 * @param mint token mint
 * @param userId whom they write to
 * @returns the account's access token
 */
export async function contactOf(
  inst: Instance,
  mint: TokenIssuer,
  userId: string,
): Promise<string> {
  const token = await mint.mint(randomUUID());
  const d = await api(inst.url, token, 'POST', '/devices', { name: 'asker' });
  expect(d.status).toBe(201);
  // a keyed device: opening a conversation lowers the account's guard (see device-proof.ts)
  const keys = await api(inst.url, token, 'PUT', `/devices/${d.body.deviceId}/keys`, new SignalIdentity().upload());
  expect(keys.status).toBe(200);
  const r = await api(inst.url, token, 'POST', '/conversations', {
    kind: 'direct',
    memberIds: [userId],
  });
  expect(r.status).toBe(201);
  return token;
}
