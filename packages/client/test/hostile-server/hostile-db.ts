import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ChatClient } from '../../src/client/chat-client.js';
import type { DeviceBundle } from '../../src/protocol/keys.js';
import { generateLocalIdentity, generateSignedPreKey } from '../../src/protocol/keys.js';
import type { KeyPairBytes } from '../../src/storage/protocol-store.js';
import { createTestDevice, type TestDevice } from '../../src/testing/test-device.js';
import { afterAll, beforeAll } from 'vitest';
import { account, startStack, type Stack } from '../support/stack.js';

/**
 * The "server" of the hostile-server tests: it writes chat-service's tables directly, as an
 * operator or an attacker with database access could.
 */
export interface HostileDb {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs SQL text (several statements allowed, e.g. `SET session_replication_role = replica;
   * INSERT ...` to get past triggers; the setting is reset afterwards).
   * @returns the first cell of the last statement's first row, as text ('' when none)
   */
  sql(text: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * @param stack the running stack
 * @returns a raw connection to its database
 */
export async function hostileDb(stack: Stack): Promise<HostileDb> {
  const client = new pg.Client({ connectionString: stack.db.url });
  await client.connect();
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async sql(text: string) {
      try {
        const results = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        const last = Array.isArray(results) ? results.at(-1) : results;
        const row = last?.rows[0] as Record<string, unknown> | undefined;
        const cell = row ? Object.values(row)[0] : undefined;
        return cell === undefined || cell === null ? '' : String(cell);
      } finally {
        await client.query('RESET session_replication_role');
      }
    },
    close: () => client.end(),
  };
}

/** A device the server planted for a user, under an identity key the attacker holds. */
export interface Ghost {
  deviceId: number;
  identityKeyPair: KeyPairBytes;
  /** The attacker's protocol state (its own identity; talks to the victim as a contact). */
  attacker: TestDevice;
}

/**
 * Plants a keyed device for `userId` whose bundle carries the attacker's identity key (its
 * signed prekey validly signed by that key): a device row, and the account's identity key
 * replaced (chat-service serves one identity key per account; a per-device column is filled too
 * when the schema has one).
 * @param db raw database access
 * @param userId the victim
 * @returns the ghost
 */
export async function plantGhostDevice(db: HostileDb, userId: string): Promise<Ghost> {
  const identity = await generateLocalIdentity();
  const signed = await generateSignedPreKey(identity.identityKeyPair, 77);
  const [acc] = await db.query<{ next_device_id: number }>(
    `UPDATE chat.accounts SET next_device_id = next_device_id + 1, identity_key = $2 WHERE user_id = $1 RETURNING next_device_id - 1 AS next_device_id`,
    [userId, Buffer.from(identity.identityKeyPair.pubKey)],
  );
  if (!acc) throw new Error('no chat account for the victim');
  const deviceId = acc.next_device_id;
  await db.query(
    `INSERT INTO chat.devices (user_id, device_id, name, registration_id, signed_prekey_id, signed_prekey, signed_prekey_signature, secret_digest, keys_updated_at)
     VALUES ($1, $2, '', $3, $4, $5, $6, $7, now())`,
    [
      userId,
      deviceId,
      identity.registrationId,
      signed.keyId,
      Buffer.from(signed.keyPair.pubKey),
      Buffer.from(signed.signature),
      randomBytes(32),
    ],
  );
  const perDevice = await db.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = 'chat' AND table_name = 'devices' AND column_name = 'identity_key'`,
  );
  if (perDevice.length > 0) {
    await db.query(
      `UPDATE chat.devices SET identity_key = $3 WHERE user_id = $1 AND device_id = $2`,
      [userId, deviceId, Buffer.from(identity.identityKeyPair.pubKey)],
    );
  }
  const attacker = await createTestDevice(randomUUID(), deviceId, {
    identityKeyPair: identity.identityKeyPair,
  });
  return { deviceId, identityKeyPair: identity.identityKeyPair, attacker };
}

/**
 * The victim's real bundle for one device, as the attacker reads it from the database (the
 * victim's true identity public key, the device's signed prekey and one one-time prekey).
 * @param db raw database access
 * @param victim the victim's client (only its public identity key is read)
 * @param deviceId the victim's device
 * @returns the bundle
 */
export async function realBundle(
  db: HostileDb,
  victim: ChatClient,
  deviceId: number,
): Promise<DeviceBundle> {
  const local = await victim.store.getLocalIdentity();
  if (!local) throw new Error('victim has no identity');
  const [d] = await db.query<{
    registration_id: number;
    signed_prekey_id: number;
    signed_prekey: Buffer;
    signed_prekey_signature: Buffer;
  }>(
    `SELECT registration_id, signed_prekey_id, signed_prekey, signed_prekey_signature FROM chat.devices WHERE user_id = $1 AND device_id = $2`,
    [victim.user.id, deviceId],
  );
  if (!d) throw new Error('no such device');
  const [pk] = await db.query<{ key_id: number; public_key: Buffer }>(
    `DELETE FROM chat.one_time_prekeys WHERE id = (SELECT id FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2 ORDER BY key_id LIMIT 1) RETURNING key_id, public_key`,
    [victim.user.id, deviceId],
  );
  return {
    deviceId,
    registrationId: d.registration_id,
    identityKey: local.identityKeyPair.pubKey,
    signedPreKey: {
      keyId: d.signed_prekey_id,
      publicKey: new Uint8Array(d.signed_prekey),
      signature: new Uint8Array(d.signed_prekey_signature),
    },
    preKey: pk ? { keyId: pk.key_id, publicKey: new Uint8Array(pk.public_key) } : undefined,
  };
}

/**
 * Puts an envelope into a device's mailbox, as the server would store it.
 * @param db raw database access
 * @param e recipient, claimed sender, conversation, Signal type and body
 * @returns the server message id
 */
export async function injectEnvelope(
  db: HostileDb,
  e: {
    recipientUser: string;
    recipientDevice: number;
    senderUser: string;
    senderDevice: number;
    conversationId: string;
    type: number;
    body: Uint8Array;
  },
): Promise<string> {
  const messageId = randomUUID();
  await db.query(
    `INSERT INTO chat.mailbox (message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body, server_ts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
    [
      messageId,
      e.recipientUser,
      e.recipientDevice,
      e.conversationId,
      e.senderUser,
      e.senderDevice,
      e.type,
      Buffer.from(e.body),
    ],
  );
  return messageId;
}

/**
 * A UUID literal, checked (tests interpolate ids into SQL).
 * @param id a UUID
 * @returns the quoted literal
 */
export function uuid(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  return `'${id}'`;
}

/** Fast backoff: the transient retries of a refused send take milliseconds, not seconds. */
export const FAST_RETRY = { sendRetry: { baseDelayMs: 20, maxDelayMs: 100 } };

/** One test file's stack and the raw database connection that plays the hostile server. */
export interface HostileEnv {
  readonly stack: Stack;
  readonly db: HostileDb;
  /**
   * A signed-up client.
   * @param tag name of the person and device
   * @param options client options (e.g. {@link FAST_RETRY})
   */
  person(tag: string, options?: Parameters<Stack['client']>[1]): Promise<ChatClient>;
}

/**
 * Starts a stack and a raw database connection before the file's tests and closes both after.
 * @returns the environment (filled once `beforeAll` ran)
 */
export function hostileEnv(): HostileEnv {
  const env = {
    async person(tag: string, options?: Parameters<Stack['client']>[1]) {
      const c = env.stack.client(tag, options);
      await c.signUp(account(tag));
      return c;
    },
  } as HostileEnv & { stack: Stack; db: HostileDb };
  beforeAll(async () => {
    env.stack = await startStack();
    env.db = await hostileDb(env.stack);
  });
  afterAll(async () => {
    await env.db?.close();
    await env.stack?.close();
  });
  return env;
}
