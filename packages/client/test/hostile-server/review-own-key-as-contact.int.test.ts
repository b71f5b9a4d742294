import { describe, expect, it } from 'vitest';
import { account } from '../support/stack.js';
import { hostileEnv } from './hostile-db.js';

const env = hostileEnv();

// Review (issue 14): the server serves Alice's own identity key (and her device's genuine signed
// prekey) as Carol's, so that "Carol" would be pinned to Alice's key and Alice's own devices'
// messages could be shown as Carol's.
describe("hostile server: my own identity key served as a contact's", () => {
  it("when Carol's bundle carries Alice's identity key, then Alice's send fails own_identity_key, nothing reaches the server for Carol and no key is pinned", async () => {
    const alice = env.stack.client('alice laptop');
    const carol = env.stack.client('carol phone');
    await alice.signUp(account('alice'));
    await carol.signUp(account('carol'));
    const aliceDevice = (await alice.deviceId()) as number;
    const carolDevice = (await carol.deviceId()) as number;
    carol.disconnect();
    await env.db.query(
      `UPDATE chat.accounts SET identity_key = (SELECT identity_key FROM chat.accounts WHERE user_id = $1) WHERE user_id = $2`,
      [alice.user.id, carol.user.id],
    );
    await env.db.query(
      `UPDATE chat.devices c SET signed_prekey_id = a.signed_prekey_id, signed_prekey = a.signed_prekey, signed_prekey_signature = a.signed_prekey_signature
       FROM chat.devices a WHERE a.user_id = $1 AND a.device_id = $2 AND c.user_id = $3 AND c.device_id = $4`,
      [alice.user.id, aliceDevice, carol.user.id, carolDevice],
    );
    await env.db.query(`DELETE FROM chat.one_time_prekeys WHERE user_id = $1`, [carol.user.id]);

    const conv = await alice.createConversation({ kind: 'direct', memberIds: [carol.user.id] });
    const err = await alice.sendText(conv.id, 'hello Carol').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'own_identity_key' });
    const [rows] = await env.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
      [carol.user.id],
    );
    expect(rows?.n).toBe(0);
    expect(await alice.store.getIdentity(carol.user.id)).toBeUndefined();
    expect((await alice.history(conv.id)).map((m) => m.failure?.code)).toEqual([
      'own_identity_key',
    ]);
  });
});
