import { describe, expect, it } from 'vitest';
import { openBackup, sealBackup, unlockBackup } from '../../src/backup/key-backup.js';
import { fetchBackup } from '../../src/client/backup-sync.js';
import type { ChatClient } from '../../src/client/chat-client.js';
import type { StoredMessage } from '../../src/messages/message.schema.js';
import { account } from '../support/stack.js';
import { hostileEnv, uuid } from './hostile-db.js';

/**
 * Issue 14: the server stores no group title. Titles travel in end-to-end control messages;
 * a title written into `chat.conversations` by a hostile server changes nothing on any screen.
 */

const env = hostileEnv();

const person = (tag: string) => env.person(tag);

/** A client's device proof, as its SDK sends it on `POST /conversations`. */
async function proofOf(c: ChatClient): Promise<{ deviceId: number; deviceSecret: string }> {
  const deviceId = await c.deviceId();
  const deviceSecret = await c.store.getMeta('deviceSecret');
  if (deviceId === undefined || typeof deviceSecret !== 'string') throw new Error('no device');
  return { deviceId, deviceSecret };
}

function eventOf(c: ChatClient, type: string): Promise<StoredMessage> {
  return c.next(
    'message',
    (m) => m.kind === 'event' && m.event?.type === type,
  ) as Promise<StoredMessage>;
}

describe('group titles', () => {
  it('when a group is created and renamed, then the database never holds its title, and a title the server writes is ignored', async () => {
    const [alice, bob] = [await person('alice'), await person('bob')];
    const TITLE = `Surprise party ${crypto.randomUUID()}`;
    const RENAMED = `Party moved ${crypto.randomUUID()}`;
    const created = eventOf(bob, 'created');
    const group = await alice.createConversation({
      kind: 'group',
      title: TITLE,
      memberIds: [bob.user.id],
    });
    expect((await created).event).toMatchObject({ actorUserId: alice.user.id, title: TITLE });
    expect(bob.groups.info(group.id).title).toBe(TITLE);
    expect(
      await env.db.sql(
        `SELECT coalesce(title, '<null>') FROM chat.conversations WHERE id = ${uuid(group.id)}`,
      ),
    ).toBe('<null>');
    expect(await env.stack.dump()).not.toContain(TITLE);

    const renamed = eventOf(bob, 'renamed');
    await alice.groups.rename(group.id, RENAMED);
    await renamed;
    const dump = await env.stack.dump();
    expect(dump).not.toContain(RENAMED);
    expect(dump).not.toContain(TITLE);
    expect(
      await env.db.sql(
        `SELECT coalesce(title, '<null>') FROM chat.conversations WHERE id = ${uuid(group.id)}`,
      ),
    ).toBe('<null>');

    // The server rewrites the title: both clients keep showing the end-to-end one.
    await env.db.sql(
      `UPDATE chat.conversations SET title = 'Send your password to mallory' WHERE id = ${uuid(group.id)}`,
    );
    for (const c of [alice, bob]) {
      const listed = await c.getConversation(group.id, true);
      expect(listed.title).toBe('Send your password to mallory');
      expect(c.groups.info(group.id).title).toBe(RENAMED);
    }
    for (const c of [alice, bob]) await c.logOut();
  });

  it("when a new device of mine logs in, then it starts with my views from the key backup (not the server's list)", async () => {
    const input = account('alice');
    const alice = env.stack.client('alice laptop');
    await alice.signUp(input);
    const bob = await person('bob');
    const created = eventOf(bob, 'created');
    const group = await alice.createConversation({
      kind: 'group',
      title: 'From backup',
      memberIds: [bob.user.id],
    });
    await created;
    await alice.flushBackup();
    const phone = env.stack.client('alice phone');
    await phone.logIn(input);
    expect(phone.groups.info(group.id)).toMatchObject({ title: 'From backup', origin: 'member' });
    expect(
      phone.groups
        .info(group.id)
        .members.map((m) => m.userId)
        .sort(),
    ).toEqual([alice.user.id, bob.user.id].sort());
    for (const c of [alice, bob, phone]) await c.logOut();
  });

  it('when an account from before group views logs in, then it adopts its groups once, moves the legacy title into a rename and clears it on the server', async () => {
    const aliceIn = account('alice');
    const bobIn = account('bob');
    const alice = env.stack.client('alice old');
    const bob = env.stack.client('bob old');
    const { recoveryKey: aliceKey } = await alice.signUp(aliceIn);
    const { recoveryKey: bobKey } = await bob.signUp(bobIn);
    // A group made the old way: no control message, the title on the server.
    const legacy = await alice.api.chat.createConversation(
      { kind: 'group', memberIds: [bob.user.id] },
      await proofOf(alice),
    );
    await env.db.sql(
      `UPDATE chat.conversations SET title = 'Old club' WHERE id = ${uuid(legacy.id)}`,
    );
    // Both backups as the previous version wrote them: no group views.
    // (The old clients stay idle and offline from here on: nothing of theirs uploads again.)
    for (const [c, key] of [
      [alice, aliceKey],
      [bob, bobKey],
    ] as const) {
      await c.flushBackup();
      c.disconnect();
      const remote = await fetchBackup(c.api);
      if (!remote) throw new Error('no backup');
      const { dataKey, wrappedKeys } = await unlockBackup(remote.blob, c.user.id, 'recovery', key);
      const { payload } = await openBackup(remote.blob, c.user.id, dataKey);
      const { groups: _groups, ...old } = payload;
      const proof = {
        deviceId: Number(await c.deviceId()),
        deviceSecret: String(await c.store.getMeta('deviceSecret')),
      };
      await c.api.chat.putBackup(
        { version: remote.version + 1, blob: await sealBackup(dataKey, old, wrappedKeys, remote.version + 1) },
        proof,
      );
    }

    // Bob's first run of this version adopts the group from the server's list, title included.
    const bobNew = env.stack.client('bob new');
    await bobNew.logIn(bobIn);
    expect(bobNew.groups.info(legacy.id)).toMatchObject({ origin: 'legacy', title: 'Old club' });
    // Alice's first run: she owns it, so she sends the title as a rename and clears it.
    const renamed = eventOf(bobNew, 'renamed');
    const aliceNew = env.stack.client('alice new');
    await aliceNew.logIn(aliceIn);
    expect((await renamed).event).toMatchObject({ actorUserId: alice.user.id, title: 'Old club' });
    expect(
      await env.db.sql(
        `SELECT coalesce(title, '<null>') FROM chat.conversations WHERE id = ${uuid(legacy.id)}`,
      ),
    ).toBe('<null>');
    expect(aliceNew.groups.info(legacy.id)).toMatchObject({ origin: 'legacy', title: 'Old club' });
    const hi = bobNew.next('message', (m) => m.text === 'still works');
    await aliceNew.sendText(legacy.id, 'still works');
    await hi;

    // A group the server shows later is never adopted: it waits for a member's state.
    const later = await bobNew.api.chat.createConversation(
      { kind: 'group', memberIds: [alice.user.id] },
      await proofOf(bobNew),
    );
    await aliceNew.logOut();
    const again = env.stack.client('alice again', {
      sendRetry: { baseDelayMs: 20, maxDelayMs: 100 },
    });
    await again.logIn(aliceIn);
    expect(again.groups.info(later.id).origin).toBe('pending');
    await expect(again.sendText(later.id, 'hello?', { wait: true })).rejects.toMatchObject({
      code: 'group_state_pending',
    });
    for (const c of [bobNew, again]) await c.logOut();
  });
});
