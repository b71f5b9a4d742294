/**
 * `npm run retry-soak -w bench [-- --messages=10000 --corrupt=0.02 --offline=0.01]`: the decrypt
 * failure soak of issue 18 (docs/benchmarks.md "Decrypt-failure soak"). Three users with two
 * devices each (6 devices) write in one group on the real stack (in-process services, a fresh
 * database); at random a device's session with a sender device is deleted or an envelope is
 * garbled in flight (both cause decrypt failures), and devices go offline for a while. Every
 * failure must resolve by itself: the report gives how many, how fast (from the moment both
 * sides were online), and how many stayed unresolved (target: 0, all within 10 s). Prints a JSON
 * summary and writes bench/results/retry-soak-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ChatClient } from '@cipherchat/client';
import { account, startStack } from '../../../packages/client/test/support/stack.js';
import { REPO_ROOT } from '../stack.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000' },
    corrupt: { type: 'string', default: '0.02' },
    garble: { type: 'string', default: '0.02' },
    offline: { type: 'string', default: '0.01' },
    settleMs: { type: 'string', default: '120000' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'results') },
  },
});
const total = Number(values.messages);
const pCorrupt = Number(values.corrupt);
const pGarble = Number(values.garble);
const pOffline = Number(values.offline);
/** A uniform number in [0, 1) (crypto randomness, as the lint rule asks even here). */
const random = () => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
const rnd = (n: number) => Math.floor(random() * n);

const stack = await startStack();
interface Device {
  name: string;
  client: ChatClient;
  deviceId: number;
  /** When it last came online (epoch ms). */
  onlineAt: number;
  online: boolean;
}
const devices: Device[] = [];
for (const tag of ['ann', 'ben', 'cat']) {
  const creds = account(tag);
  const first = stack.client(`${tag} 1`);
  await first.signUp(creds);
  const second = stack.client(`${tag} 2`);
  await second.logIn({ email: creds.email, password: creds.password });
  for (const [i, c] of [first, second].entries())
    devices.push({
      name: `${tag}${i + 1}`,
      client: c,
      deviceId: (await c.deviceId()) ?? 0,
      onlineAt: Date.now(),
      online: true,
    });
}
const [owner, ...rest] = devices;
const members = [...new Set(rest.map((d) => d.client.user.id))].filter(
  (u) => u !== owner!.client.user.id,
);
const group = await owner!.client.createConversation({
  kind: 'group',
  memberIds: members,
  title: 'soak',
});
// Everyone has the group's state before the soak starts.
await Promise.all(devices.slice(1).map((d) => d.client.sendText(group.id, `hello from ${d.name}`)));

/** Failures by `receiver:serverId`: when they appeared and resolved. */
const failures = new Map<
  string,
  { receiver: Device; sender: Device | undefined; at: number; resolvedAt?: number; cause?: string }
>();
for (const d of devices) {
  d.client.on('retryChanged', (p) => {
    const key = `${d.name}:${p.messageId}`;
    const sender = devices.find(
      (x) => x.client.user.id === p.senderUserId && x.deviceId === p.senderDeviceId,
    );
    if (p.state === 'waiting' && !failures.has(key))
      failures.set(key, { receiver: d, sender, at: Date.now() });
    const f = failures.get(key);
    if (f && p.state === 'resolved') f.resolvedAt = Date.now();
    if (f && p.state === 'failed') f.cause = p.cause;
  });
  d.client.on('error', () => undefined);
}

const started = Date.now();
let corrupted = 0;
let garbled = 0;
let wentOffline = 0;
const sentIds: string[] = [];
for (let i = 0; i < total; i++) {
  const online = devices.filter((d) => d.online);
  const from = online[rnd(online.length)]!;
  if (random() < pCorrupt) {
    // A receiver loses its session with this sender device.
    const victim = devices.filter((d) => d !== from)[rnd(devices.length - 1)]!;
    await victim.client.protocol.deleteSession(from.client.user.id, from.deviceId);
    corrupted += 1;
  }
  if (random() < pOffline && online.length > 2) {
    const away = online.filter((d) => d !== from)[rnd(online.length - 1)]!;
    away.client.disconnect();
    away.online = false;
    wentOffline += 1;
    // Back after 2-20 s.
    setTimeout(
      () =>
        void away.client.connect().then(() => ((away.online = true), (away.onlineAt = Date.now()))),
      2000 + rnd(18_000),
    );
  }
  const text = `soak ${i}`;
  const m =
    random() < pGarble
      ? (garbled++,
        await from.client.sendTextWithEnvelopes(group.id, text, (envs) => {
          const k = rnd(envs.length);
          return envs.map((e, j) =>
            j === k
              ? {
                  ...e,
                  body: e.body.slice(0, 50) + (e.body[50] === 'A' ? 'B' : 'A') + e.body.slice(51),
                }
              : e,
          );
        }))
      : await from.client.sendText(group.id, text, { wait: true });
  sentIds.push(m.id);
}
const sendMs = Date.now() - started;

// Everyone back online; wait until no failure is left waiting and every device holds every
// message (a device back from offline drains its mailbox), or the bound.
await Promise.all(
  devices
    .filter((d) => !d.online)
    .map(async (d) => (await d.client.connect(), (d.online = true), (d.onlineAt = Date.now()))),
);
const deadline = Date.now() + Number(values.settleMs);
const unresolved = () => devices.reduce((n, d) => n + d.client.retries.stats().waiting, 0);
/** Over every device: copies missing and messages held more than once. */
const gaps: Array<{ device: string; message: number }> = [];
async function tally(final = false): Promise<{ missing: number; duplicated: number }> {
  let missing = 0;
  let duplicated = 0;
  for (const d of devices) {
    const counts = new Map<string, number>();
    for (const m of await d.client.history(group.id)) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
    for (const id of sentIds) {
      const c = counts.get(id) ?? 0;
      if (c === 0) {
        missing += 1;
        if (final) gaps.push({ device: d.name, message: sentIds.indexOf(id) });
      }
      if (c > 1) duplicated += 1;
    }
  }
  return { missing, duplicated };
}
let held = await tally();
while ((unresolved() > 0 || held.missing > 0) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 500));
  held = await tally();
}
held = await tally(true);
const { missing, duplicated } = held;
const settleMs = Date.now() - (deadline - Number(values.settleMs));
const latencies = [...failures.values()]
  .filter((f) => f.resolvedAt !== undefined)
  .map((f) => f.resolvedAt! - Math.max(f.at, f.receiver.onlineAt, f.sender?.onlineAt ?? 0))
  .map((ms) => Math.max(0, ms))
  .sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
const report = {
  at: new Date().toISOString(),
  host: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  messages: total,
  devices: devices.length,
  sendMs,
  settleMs,
  injected: { sessionsDeleted: corrupted, envelopesGarbled: garbled, devicesOffline: wentOffline },
  failures: failures.size,
  resolved: latencies.length,
  failedWithCause: [...failures.values()].filter((f) => f.cause).map((f) => f.cause),
  unresolved: [...failures.values()].filter((f) => f.resolvedAt === undefined).length,
  resolveMs: {
    p50: pct(50),
    p95: pct(95),
    max: latencies.at(-1) ?? 0,
    over10s: latencies.filter((x) => x > 10_000).length,
  },
  history: { missing, duplicated, gaps: gaps.slice(0, 20) },
  requests: devices.reduce((n, d) => n + d.client.retries.stats().requestsSent, 0),
  resent: devices.reduce((n, d) => n + d.client.retries.stats().resent, 0),
  refused: devices.reduce((n, d) => n + d.client.retries.stats().refused, 0),
};
console.log(JSON.stringify(report, null, 2));
mkdirSync(values.out, { recursive: true });
writeFileSync(
  path.join(values.out, `retry-soak-${report.at.replace(/[:.]/g, '-')}.json`),
  JSON.stringify(report, null, 2),
);
for (const d of devices) await d.client.logOut().catch(() => undefined);
await stack.close();
process.exit(report.unresolved === 0 && missing === 0 && duplicated === 0 ? 0 : 1);
