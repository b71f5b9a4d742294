import { randomUUID } from 'node:crypto';
import type { RetryGate } from '../client/retry-gate.js';
import { Retries } from '../client/retries.js';
import type { PlaintextMessage } from '../messages/message.schema.js';
import { decodePlaintext } from '../messages/plaintext-codec.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';

/** A device reached by a simulated send: who, and the plaintext its envelope carried. */
export interface SimDelivery {
  from: SimDevice;
  to: { userId: string; deviceId: number };
  plain: PlaintextMessage | undefined;
  messageId: string;
}

/** One simulated device: its `Retries`, the sends it made and the events it emitted. */
export interface SimDevice {
  user: string;
  dev: number;
  retries: Retries;
  sends: Array<{ conversationId: string; messageId: string; envelopes: number }>;
  events: Array<[string, unknown]>;
  /** Bundle fetches and session builds (freshSession's work). */
  sessionWork: number;
  /** What `gate` answers (default ok). */
  gate: RetryGate;
  clock: { now: number };
}

/**
 * Tests only: a device's `Retries` over a fake sender (every send reaches `peers()`, handed to
 * `deliver`), fake sessions (always present) and an in-memory store.
 * @param user user id
 * @param dev device id
 * @param peers the devices a send of this device reaches
 * @param deliver called for each envelope
 * @param clock shared clock
 * @returns the device
 */
export function simDevice(
  user: string,
  dev: number,
  peers: () => Array<{ userId: string; deviceId: number }>,
  deliver: (d: SimDelivery) => void,
  clock: { now: number },
): SimDevice {
  const meta = new Map<string, unknown>();
  const store = {
    getMeta: (k: string) => Promise.resolve(meta.get(k)),
    setMeta: (k: string, v: unknown) => Promise.resolve(void meta.set(k, structuredClone(v))),
    getMessage: () => Promise.resolve(undefined),
  };
  const s = {
    user: { id: user },
    store,
    protocol: { hasSession: () => Promise.resolve(true), deleteSession: () => Promise.resolve() },
  };
  const d = { user, dev, sends: [], events: [], sessionWork: 0, gate: 'ok', clock } as Omit<
    SimDevice,
    'retries'
  > as SimDevice;
  const sender = {
    fanOut: (
      conversationId: string,
      pre: {
        id: string;
        padded: Uint8Array;
        forDevice?: (u: string, d: number) => Uint8Array | undefined;
      },
      mutate: (e: Array<{ userId: string; deviceId: number }>) => unknown,
    ) => {
      const envs = peers();
      mutate(envs);
      const messageId = randomUUID();
      d.sends.push({ conversationId, messageId, envelopes: envs.length });
      for (const to of envs) {
        const decoded = decodePlaintext(pre.forDevice?.(to.userId, to.deviceId) ?? pre.padded);
        deliver({
          from: d,
          to,
          plain: decoded.type === 'known' ? decoded.plain : undefined,
          messageId,
        });
      }
      return Promise.resolve({ messageId, serverTimestamp: new Date(clock.now).toISOString() });
    },
  };
  const work = () => {
    d.sessionWork += 1;
    return Promise.resolve();
  };
  d.retries = new Retries({
    session: { current: s, require: () => s } as never,
    sender: sender as never,
    contacts: { fetchBundles: work, ensure: work } as never,
    deviceKeys: { cachedId: dev } as never,
    gate: () => Promise.resolve(d.gate),
    connected: () => true,
    emit: (ev: string, x: unknown) => void d.events.push([ev, x]),
    now: () => clock.now,
  });
  void d.retries.load(store as never);
  return d;
}

/**
 * @param from the sender
 * @param conversationId conversation
 * @param messageId server id
 * @param now clock
 * @returns an envelope as the receiver sees it
 */
export function simEnvelope(
  from: { user: string; dev: number },
  conversationId: string,
  messageId: string,
  now: number,
): IncomingEnvelope {
  return {
    messageId,
    conversationId,
    senderUserId: from.user,
    senderDeviceId: from.dev,
    type: 1,
    body: 'AAAA',
    serverTimestamp: new Date(now).toISOString(),
  } as IncomingEnvelope;
}

/** @param rounds how many macrotask turns @returns once they ran */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}
