import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * A device that learns of a new device through `stale_devices` while several sends are in
 * flight (a message, typing and receipts go out together in the web client) must build one
 * session with it, keep it, and never fail a send because a concurrent send replaced it.
 * Before the fix every stale answer deleted the session and fetched a new bundle, so the
 * peer's reply, made on an older session, could not be decrypted, or a send failed with
 * `no_session`.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});


async function prekeysLeft(userId: string, deviceId: number): Promise<number> {
  const rows = (await stack.chatApp.ds.query(
    `SELECT count(*)::int AS n FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2`,
    [userId, deviceId],
  )) as { n: number }[];
  return rows[0]!.n;
}

describe('concurrent sends and a new device', () => {
  it('when Alice fires several sends at once after Bob added a device, then all arrive, one session is built per device, and replies from both devices decrypt', async () => {
    const a = account('alice');
    const b = account('bob');
    const alice = stack.client('alice');
    const bob1 = stack.client('bob 1');
    await alice.signUp(a);
    await bob1.signUp(b);
    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob1.user.id] });
    const hello = messageWith(bob1, 'hello');
    await alice.sendText(direct.id, 'hello');
    await hello;

    // Bob logs in on a second device: Alice does not know it yet.
    const bob2 = stack.client('bob 2');
    // The new device announces itself to Bob's first device (fetching his own bundles, which
    // takes one of its own prekeys too): count from after that.
    const announced = bob1.next('deviceLinked');
    await bob2.logIn(b);
    await announced;
    const bob2Id = (await bob2.deviceId())!;
    const before = await prekeysLeft(bob2.user.id, bob2Id);

    const texts = Array.from({ length: 6 }, (_, i) => `burst ${i}`);
    const arrivals = texts.map((t) => Promise.all([messageWith(bob1, t), messageWith(bob2, t)]));
    const sends = await Promise.allSettled(texts.map((t) => alice.sendText(direct.id, t)));
    expect(sends.map((s) => s.status)).toEqual(texts.map(() => 'fulfilled'));
    await Promise.all(arrivals);
    // One bundle fetch for the new device, not one per send.
    expect(before - (await prekeysLeft(bob2.user.id, bob2Id))).toBe(1);

    // Both of Bob's devices answer at once; Alice decrypts both.
    const failures: string[] = [];
    alice.on('decryptFailed', (e) => failures.push(e.code));
    const replies = [messageWith(alice, 'from bob 1'), messageWith(alice, 'from bob 2')];
    await Promise.all([bob1.sendText(direct.id, 'from bob 1'), bob2.sendText(direct.id, 'from bob 2')]);
    await Promise.all(replies);
    expect(failures).toEqual([]);

    for (const c of [alice, bob1, bob2]) await c.logOut();
  });
});
