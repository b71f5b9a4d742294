import { describe, expect, it } from 'vitest';
import { account, messageWith } from '../support/stack.js';
import { hostileEnv, injectEnvelope } from './hostile-db.js';

const env = hostileEnv();

interface MailboxRow {
  message_id: string;
  recipient_user: string;
  recipient_device: number;
  conversation_id: string;
  sender_user: string;
  sender_device: number;
  type: number;
  body: Buffer;
}

describe('hostile server: a delivered envelope put back into the mailbox', () => {
  it('when the server re-inserts an acknowledged envelope (same or new server id) and redelivers it, then it is shown once and the session keeps working both ways', async () => {
    const alice = env.stack.client('alice laptop');
    const bob = env.stack.client('bob phone');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const aliceDevice = (await alice.deviceId()) as number;

    alice.disconnect();
    await bob.sendText(conv.id, 'only once');
    const [row] = await env.db.query<MailboxRow>(
      `SELECT message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body
         FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2`,
      [alice.user.id, aliceDevice],
    );
    expect(row).toBeDefined();
    if (!row) return;
    const seen: string[] = [];
    alice.on('message', (m) => seen.push(m.text ?? ''));
    const got = messageWith(alice, 'only once');
    await alice.connect();
    await got;
    await bob.sendText(conv.id, 'marker'); // processed in order: once it shows, the first was acked
    await messageWith(alice, 'marker');
    const left = await env.db.query(`SELECT 1 FROM chat.mailbox WHERE message_id = $1`, [
      row.message_id,
    ]);
    expect(left).toEqual([]);

    // The server puts it back: once under its own server id, once under a new one.
    await env.db.query(
      `INSERT INTO chat.mailbox (message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body, server_ts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
      [
        row.message_id,
        row.recipient_user,
        row.recipient_device,
        row.conversation_id,
        row.sender_user,
        row.sender_device,
        row.type,
        row.body,
      ],
    );
    const newId = await injectEnvelope(env.db, {
      recipientUser: row.recipient_user,
      recipientDevice: row.recipient_device,
      senderUser: row.sender_user,
      senderDevice: row.sender_device,
      conversationId: row.conversation_id,
      type: row.type,
      body: new Uint8Array(row.body),
    });
    const refused = alice.next('decryptFailed', (e) => e.messageId === newId);
    await alice.syncMailbox();
    expect((await refused).code).toBe('duplicate_message');

    // Nothing shown twice, and the session is intact in both directions.
    const next = messageWith(alice, 'after the replay');
    await bob.sendText(conv.id, 'after the replay');
    await next;
    const reply = messageWith(bob, 'reply');
    await alice.sendText(conv.id, 'reply');
    await reply;
    expect(seen.filter((t) => t === 'only once')).toHaveLength(1);
    expect((await alice.history(conv.id)).filter((m) => m.text === 'only once')).toHaveLength(1);
    const gone = await env.db.query(
      `SELECT 1 FROM chat.mailbox WHERE message_id = ANY($1::uuid[])`,
      [[row.message_id, newId]],
    );
    expect(gone).toEqual([]);
  });
});
