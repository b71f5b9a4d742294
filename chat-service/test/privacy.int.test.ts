import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@cipherchat/contracts';
import { Bus, createLogger, createMetrics } from '@cipherchat/service-kit';
import { waitForConsumed } from '@cipherchat/service-kit/testing';
import { api, connect, createTestEnv, createUser, request, type Instance, type TestEnv, connectDrained } from './support/harness.js';

let env: TestEnv;
let inst: Instance;
let probe: Bus;
const raw: string[] = [];
const probeQueue = `probe.${randomUUID()}`;

beforeAll(async () => {
  env = await createTestEnv('chatpriv', { LOG_LEVEL: 'trace' });
  inst = await env.start();
  probe = new Bus({ url: env.env.AMQP_URL as string, exchange: env.env.BUS_EXCHANGE as string, logger: createLogger('probe', 'silent'), metrics: createMetrics('probe', false) });
  await probe.start(true);
  env.extraQueues.push(probeQueue);
  await probe.consume({
    queue: probeQueue,
    types: ['chat.message_queued.v1', 'chat.mailbox_drained.v1'] as const,
    handler: async (e: EventEnvelope) => {
      raw.push(JSON.stringify(e));
    },
  });
});
afterAll(async () => {
  await probe?.close();
  await env?.close();
});

describe('what the server keeps', () => {
  it('when an envelope carries a known marker, then the marker is found in the mailbox table only: not in other tables, bus events or logs', async () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    // the marker starts the body, so its base64 and hex spellings are fixed prefixes we can search for
    const body = Buffer.concat([Buffer.from(marker), randomBytes(40)]).toString('base64');
    const spellings = [marker, Buffer.from(marker).toString('hex'), Buffer.from(marker).toString('base64').slice(0, 24)];
    const found = (text: string) => spellings.some((s) => text.includes(s));

    const alice = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint, 2);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    const queued = waitForConsumed(probe, probeQueue, 1, (e) => e.type === 'chat.message_queued.v1');
    // a rejected send with the marker too (stale device list), and a malformed one
    await request(sa, 'message:send', { conversationId: conv.body.id, clientMessageId: 'x0', envelopes: [{ userId: bob.userId, deviceId: 1, type: 1, body }] });
    await request(sa, 'message:send', { conversationId: conv.body.id, clientMessageId: 'x1', envelopes: [{ userId: bob.userId, deviceId: 'one', type: 1, body }] });
    const ack = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'x2',
      envelopes: bob.deviceIds.map((d) => ({ userId: bob.userId, deviceId: d, type: 1, body })),
    });
    expect(ack.ok).toBe(true);
    await queued;
    // one device receives and acks (exercising the drain and ack paths), the other stays offline
    const { socket: sb, box } = await connectDrained(inst.url, bob.token, bob.deviceIds[0] as number);
    expect(box.messages[0]?.body).toBe(body);
    await request(sb, 'message:ack', { messageIds: [box.messages[0]!.messageId] });

    const tables = (await inst.app.ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'chat' AND table_type = 'BASE TABLE'`)) as {
      table_name: string;
    }[];
    expect(tables.length).toBeGreaterThan(8);
    const holders: string[] = [];
    for (const { table_name } of tables) {
      const rows = (await inst.app.ds.query(`SELECT t::text AS row FROM chat."${table_name}" t`)) as { row: string }[];
      if (rows.some((r) => found(r.row))) holders.push(table_name);
    }
    expect(holders).toEqual(['mailbox']);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.filter(found)).toEqual([]);
    expect(inst.logs.text().length).toBeGreaterThan(0);
    expect(found(inst.logs.text())).toBe(false);
    sa.close();
    sb.close();
  });
});
