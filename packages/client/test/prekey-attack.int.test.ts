import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KeyBundleResult } from '@cipherchat/contracts';
import type { ChatClient } from '../src/client/chat-client.js';
import { PREKEY_BATCH } from '../src/protocol/keys.js';
import { account, startStack, type Stack } from './support/stack.js';

/**
 * Prekeys under attack, against the real chat-service with its default limits: a drained
 * device still gets sessions (signed prekey as last resort), one account cannot drain it, and
 * `prekeys:low` makes a connected device refill at once.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function signUp(tag: string, connect = true): Promise<ChatClient> {
  const client = stack.client(tag);
  await client.signUp({ ...account(tag), connect });
  return client;
}

async function held(client: ChatClient): Promise<number> {
  const rows = (await stack.chatApp.ds.query(
    `SELECT count(*)::int AS n FROM chat.one_time_prekeys WHERE user_id = $1`,
    [client.user.id],
  )) as {
    n: number;
  }[];
  return rows[0]?.n ?? 0;
}

/** Records every bundle of `target` the client fetches. */
function watchBundles(client: ChatClient, target: ChatClient): KeyBundleResult[] {
  const seen: KeyBundleResult[] = [];
  const original = client.api.chat.keyBundle.bind(client.api.chat);
  vi.spyOn(client.api.chat, 'keyBundle').mockImplementation(async (userId: string) => {
    const bundle = await original(userId);
    if (userId === target.user.id) seen.push(bundle);
    return bundle;
  });
  return seen;
}

describe('last-resort sessions', () => {
  it('when a device has no one-time prekey left, then a session still starts on its signed prekey and both sides read each other', async () => {
    const alice = await signUp('lralice');
    const bob = await signUp('lrbob');
    // every one-time prekey gone (as after a drain); nothing refills it before Bob's fetch
    await stack.chatApp.ds.query(`DELETE FROM chat.one_time_prekeys WHERE user_id = $1`, [
      alice.user.id,
    ]);
    const bundles = watchBundles(bob, alice);
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const got = alice.next('message', (m) => m.text === 'on the signed prekey alone');
    await bob.sendText(conv.id, 'on the signed prekey alone');
    expect((await got).senderUserId).toBe(bob.user.id);
    expect(bundles).toHaveLength(1);
    expect(bundles[0]?.devices[0]?.signedPreKey).toBeDefined();
    expect(bundles[0]?.devices[0]?.preKey).toBeUndefined();
    const reply = bob.next('message', (m) => m.text === 'read you');
    await alice.sendText(conv.id, 'read you');
    await reply;
  });
});

describe('prekeys:low', () => {
  it('when fetches leave a connected device below the threshold, then it uploads a fresh batch at once, without a login', async () => {
    const alice = await signUp('lowalice');
    const bob = await signUp('lowbob', false);
    // leave 20 (the default threshold): the next fetch takes one and the server warns the device
    await stack.chatApp.ds.query(
      `DELETE FROM chat.one_time_prekeys WHERE user_id = $1 AND key_id NOT IN (
         SELECT key_id FROM chat.one_time_prekeys WHERE user_id = $1 ORDER BY key_id DESC LIMIT 20)`,
      [alice.user.id],
    );
    expect(await held(alice)).toBe(20);
    const uploaded = new Promise<number>((resolve) => {
      const original = alice.api.chat.uploadKeys.bind(alice.api.chat);
      vi.spyOn(alice.api.chat, 'uploadKeys').mockImplementation(
        async (...args: Parameters<typeof original>) => {
          const r = await original(...args);
          resolve(args[2]?.preKeys?.length ?? -1);
          return r;
        },
      );
    });
    expect((await bob.api.chat.keyBundle(alice.user.id)).devices[0]?.preKey).toBeDefined();
    expect(await uploaded).toBe(PREKEY_BATCH);
    expect(await held(alice)).toBe(19 + PREKEY_BATCH);
  });
});

describe('draining from one account', () => {
  it('when one account fetches my bundle as fast as the API allows, then a second account still starts a session with me and we exchange messages', async () => {
    const alice = await signUp('dralice');
    const mallory = await signUp('drmallory', false);
    const before = await held(alice);
    const answers = await Promise.allSettled(
      Array.from({ length: 60 }, () => mallory.api.chat.keyBundle(alice.user.id)),
    );
    const refused = answers.filter((a) => a.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        status: 429,
        code: 'rate_limited',
      });
    // one account takes at most its hourly per-pair budget of one-time prekeys
    expect(before - (await held(alice))).toBeLessThanOrEqual(6);

    const carol = await signUp('drcarol');
    const bundles = watchBundles(carol, alice);
    const conv = await carol.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const got = alice.next('message', (m) => m.text === 'hi despite mallory');
    await carol.sendText(conv.id, 'hi despite mallory');
    await got;
    // and hers came with a one-time prekey: nothing of Alice's budget went to Mallory's fetches
    expect(bundles[0]?.devices[0]?.preKey).toBeDefined();
    const reply = carol.next('message', (m) => m.text === 'hi carol');
    await alice.sendText(conv.id, 'hi carol');
    await reply;
  });
});
