import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/chat-client.js';
import type { StoredMessage } from '../../src/messages/message.schema.js';
import { account, startStack, type Stack } from '../support/stack.js';
import { sql, uuid } from './sql.js';

/**
 * Issue 14: the server stores no group title. Titles travel in end-to-end control messages;
 * a title written into `chat.conversations` by a hostile server changes nothing on any screen.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function person(tag: string): Promise<ChatClient> {
  const c = stack.client(tag);
  await c.signUp(account(tag));
  return c;
}

function eventOf(c: ChatClient, type: string): Promise<StoredMessage> {
  return c.next('message', (m) => m.kind === 'event' && m.event?.type === type) as Promise<StoredMessage>;
}

describe('group titles', () => {
  it('when a group is created and renamed, then the database never holds its title, and a title the server writes is ignored', async () => {
    const [alice, bob] = [await person('alice'), await person('bob')];
    const TITLE = `Surprise party ${crypto.randomUUID()}`;
    const RENAMED = `Party moved ${crypto.randomUUID()}`;
    const created = eventOf(bob, 'created');
    const group = await alice.createConversation({ kind: 'group', title: TITLE, memberIds: [bob.user.id] });
    expect((await created).event).toMatchObject({ actorUserId: alice.user.id, title: TITLE });
    expect(bob.groups.info(group.id).title).toBe(TITLE);
    expect(await sql(stack.db.url, `SELECT coalesce(title, '<null>') FROM chat.conversations WHERE id = ${uuid(group.id)}`)).toBe('<null>');
    expect(await stack.dump()).not.toContain(TITLE);

    const renamed = eventOf(bob, 'renamed');
    await alice.groups.rename(group.id, RENAMED);
    await renamed;
    const dump = await stack.dump();
    expect(dump).not.toContain(RENAMED);
    expect(dump).not.toContain(TITLE);
    expect(await sql(stack.db.url, `SELECT coalesce(title, '<null>') FROM chat.conversations WHERE id = ${uuid(group.id)}`)).toBe('<null>');

    // The server rewrites the title: both clients keep showing the end-to-end one.
    await sql(stack.db.url, `UPDATE chat.conversations SET title = 'Send your password to mallory' WHERE id = ${uuid(group.id)}`);
    for (const c of [alice, bob]) {
      const listed = await c.getConversation(group.id, true);
      expect(listed.title).toBe('Send your password to mallory');
      expect(c.groups.info(group.id).title).toBe(RENAMED);
    }
    for (const c of [alice, bob]) await c.logOut();
  });

  it('when a new device of mine logs in, then it starts with my views from the key backup (not the server\'s list)', async () => {
    const input = account('alice');
    const alice = stack.client('alice laptop');
    await alice.signUp(input);
    const bob = await person('bob');
    const created = eventOf(bob, 'created');
    const group = await alice.createConversation({ kind: 'group', title: 'From backup', memberIds: [bob.user.id] });
    await created;
    await alice.flushBackup();
    const phone = stack.client('alice phone');
    await phone.logIn(input);
    expect(phone.groups.info(group.id)).toMatchObject({ title: 'From backup', origin: 'member' });
    expect(phone.groups.info(group.id).members.map((m) => m.userId).sort()).toEqual([alice.user.id, bob.user.id].sort());
    for (const c of [alice, bob, phone]) await c.logOut();
  });
});
