import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnService } from '@cipherchat/service-kit/testing';
import { api, connect, createTestEnv, SignalIdentity, fakeBody, type TestEnv, connectDrained } from './support/harness.js';
import type { Socket } from 'socket.io-client';

let env: TestEnv;
let jwks: { url: string; close(): Promise<void> };
const children: ChildProcess[] = [];
const logDir = mkdtempSync(path.join(tmpdir(), 'chat-crash-'));

/** Starts chat-service from source as a real process (as deployed) and resolves once it is ready. */
async function startProcess(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const svc = spawnService({
    service: 'chat-service',
    env: { ...(process.env as Record<string, string>), ...env.env, JWKS_URL: jwks.url, RATE_SOCKET_EVENTS_PER_SEC: '100000', ...extra },
    port,
    logFile: path.join(logDir, `process-${children.length}.log`),
  });
  children.push(svc.child);
  await svc.ready(60_000);
  return { child: svc.child, url: svc.url };
}

beforeAll(async () => {
  env = await createTestEnv('chatcrash');
  jwks = await env.mint.serve();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await jwks?.close();
  await env?.close();
  rmSync(logDir, { recursive: true, force: true });
});

async function registerWithKeys(url: string) {
  const userId = randomUUID();
  const token = await env.mint.mint(userId);
  const d = await api(url, token, 'POST', '/devices', { name: 'd' });
  const k = await api(url, token, 'PUT', `/devices/${d.body.deviceId}/keys`, new SignalIdentity().upload(2));
  expect(k.status).toBe(200);
  return { userId, token, deviceId: d.body.deviceId as number };
}

describe('crash safety', () => {
  it('when the process is killed with SIGKILL mid-stream, then every message it acked reaches the recipient through another process', async () => {
    const first = await startProcess();
    const alice = await registerWithKeys(first.url);
    const bob = await registerWithKeys(first.url);
    const conv = await api(first.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = (await connect(first.url, alice.token, alice.deviceId)) as unknown as Socket;

    const acked: string[] = [];
    let killed = false;
    let sent = 0;
    const exited = new Promise((r) => first.child.once('exit', r));
    // 20 pipelined lanes keep sending until the process is gone, so the kill lands mid-stream
    const lane = async () => {
      while (!killed) {
        const i = sent++;
        const ack = (await sa
          .timeout(8_000)
          .emitWithAck('message:send', {
            conversationId: conv.body.id,
            clientMessageId: `k${i}`,
            envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody(`m${i}`) }],
          })
          .catch(() => undefined)) as { ok: boolean; data?: { messageId: string } } | undefined;
        if (!ack) return;
        if (ack.ok && ack.data) acked.push(ack.data.messageId);
        if (acked.length >= 60 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    const sends = Array.from({ length: 20 }, lane);
    await Promise.all(sends);
    await exited;
    expect(killed).toBe(true);
    expect(acked.length).toBeGreaterThanOrEqual(60);
    sa.close();

    const second = await startProcess();
    const { socket: sb, box } = await connectDrained(second.url, bob.token, bob.deviceId, 20_000);
    const received = new Set(box.messages.map((m) => m.messageId));
    const lost = acked.filter((id) => !received.has(id));
    expect(lost).toEqual([]);
    // and in the order they were sent
    const order = box.messages.map((m) => m.messageId).filter((id) => acked.includes(id));
    expect(order).toEqual(acked);
    console.info(`crash test: ${acked.length} of ${sent} pipelined sends acked before SIGKILL; all ${acked.length} delivered after restart`);
    sb.close();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});

describe('graceful shutdown', () => {
  it('when the process gets SIGTERM mid-stream, then it exits 0 and every message it acked is stored', async () => {
    const proc = await startProcess();
    const alice = await registerWithKeys(proc.url);
    const bob = await registerWithKeys(proc.url);
    const conv = await api(proc.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = (await connect(proc.url, alice.token, alice.deviceId)) as unknown as Socket;
    const acked: string[] = [];
    const refused: string[] = [];
    let stopping = false;
    let sent = 0;
    const exit = new Promise<number | null>((r) => proc.child.once('exit', (code) => r(code)));
    const lane = async () => {
      while (sa.connected) {
        const i = sent++;
        const ack = (await sa
          .timeout(8_000)
          .emitWithAck('message:send', {
            conversationId: conv.body.id,
            clientMessageId: `g${i}`,
            envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody(`g${i}`) }],
          })
          .catch(() => undefined)) as { ok: boolean; data?: { messageId: string }; error?: { code: string } } | undefined;
        if (!ack) return;
        if (ack.ok && ack.data) acked.push(ack.data.messageId);
        else if (ack.error) refused.push(ack.error.code);
        if (acked.length >= 40 && !stopping) {
          stopping = true;
          proc.child.kill('SIGTERM');
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, lane));
    expect(await exit).toBe(0);
    expect(new Set(refused)).toEqual(new Set(refused.length ? ['unavailable'] : []));
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.db.url });
    await client.connect();
    const rows = await client.query(`SELECT message_id FROM chat.mailbox WHERE recipient_user = $1`, [bob.userId]);
    await client.end();
    const stored = new Set(rows.rows.map((r: { message_id: string }) => r.message_id));
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    console.info(`graceful shutdown: ${acked.length} acked, ${refused.length} refused (unavailable), ${sent} sent`);
  });
});
