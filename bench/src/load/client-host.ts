import { randomBytes, randomInt } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, MessageNew, Ack, MessageSendResult } from '@cipherchat/contracts';
import { Reservoir } from '../stats.js';

/** A socket.io-client socket typed with the chat contract. */
export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** One simulated device. */
export interface ClientSpec {
  /** Generator-wide key of the client. */
  key: number;
  /** chat-service base URL to connect to. */
  url: string;
  token: string;
  userId: string;
  deviceId: number;
  /** The device's secret from registration (handshake `auth.deviceSecret`). */
  deviceSecret: string;
}

/** A stream of messages from one sender into one conversation. */
export interface FlowSpec {
  /** Generator-wide flow id (written into each body so the receiver can time it). */
  id: number;
  /** Client key of the sender. */
  sender: number;
  conversationId: string;
  /** Recipient device addresses, one envelope each. */
  envelopes: { userId: string; deviceId: number }[];
  /** Client keys (hosted here) that must receive every acked message; empty = not checked. */
  recipients: number[];
  /** Stop after this many messages (0 = until the step ends). */
  maxMessages?: number;
}

/** Parameters of one load step. */
export interface RunSpec {
  flows: FlowSpec[];
  /** Send phase length. */
  durationMs: number;
  /** Messages per second per flow (0 = as fast as the window allows). */
  ratePerFlow: number;
  /** Most un-acked sends per flow. */
  window: number;
  /** Body size in bytes before base64. */
  bodyBytes: number;
  /** After the send phase, how long to wait for outstanding acks and deliveries. */
  drainTimeoutMs: number;
  /** Ack timeout of one send. */
  ackTimeoutMs?: number;
}

/** What a step measured in one host. */
export interface RunResult {
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  /** Envelopes received by hosted recipients during the whole step (incl. the tail). */
  deliveries: number;
  /** Envelopes received between the first send and the end of the send phase. */
  deliveriesInWindow: number;
  /** Send phase length actually run (ms). */
  windowMs: number;
  /** Time from the end of the send phase until the last expected delivery (ms). */
  tailMs: number;
  /** Same envelope (device, message id) received more than once. */
  duplicates: number;
  /** Acked message × expected recipient pairs never received. */
  lost: number;
  /** Expected (acked message × recipient) deliveries. */
  expected: number;
  /** End-to-end latency samples, ms (sender emit to recipient receive, one clock). */
  e2e: Float64Array;
  /** Ack latency samples, ms (emit to ack callback). */
  ack: Float64Array;
}

/** Result of an offline drain. */
export interface DrainResult {
  /** ms from connect() to the socket being connected. */
  connectMs: number;
  /** ms from connect() to the first message. */
  firstMessageMs: number;
  /** ms from connect() until `expect` distinct envelopes arrived. */
  allReceivedMs: number;
  /** ms from connect() until `mailbox:empty`. */
  mailboxEmptyMs: number;
  received: number;
  duplicates: number;
}

interface Client {
  spec: ClientSpec;
  socket: ChatSocket;
  pendingAcks: string[];
  ackTimer: NodeJS.Timeout | undefined;
}

interface FlowState {
  spec: FlowSpec;
  seq: number;
  inflight: number;
  tokens: number;
  done: boolean;
}

/** Header at the start of every body: flow id (u32), seq (u32), send time (f64 ms). 18 bytes = 24 base64 chars. */
const HEADER_BYTES = 18;

/**
 * Hosts simulated devices in one process: connects real socket.io-client sockets (websocket
 * transport), runs message flows with a window and an optional rate, acks what it receives
 * in batches, and measures latency and loss. Used by the load workers and the fault suite.
 */
export class ClientHost {
  readonly clients = new Map<number, Client>();
  /** `${clientKey}:${messageId}` of every envelope received (for loss and duplicates). */
  private readonly received = new Set<string>();
  private readonly flowsById = new Map<number, FlowState>();
  private e2e = new Reservoir();
  private ackLat = new Reservoir();
  private deliveries = 0;
  private deliveriesInWindow = 0;
  private duplicates = 0;
  private windowOpen = false;
  private lastDeliveryAt = 0;
  private listeners: ((key: number, m: MessageNew) => void)[] = [];
  private mailboxEmptyListeners: ((key: number) => void)[] = [];
  private connectionListeners: ((key: number, connected: boolean) => void)[] = [];

  /**
   * @param socketOptions extra socket.io-client options (the fault suite turns on retries)
   */
  constructor(private readonly socketOptions: Record<string, unknown> = {}) {}

  /**
   * Connects clients, at most `concurrency` handshakes at a time.
   * @param specs the devices
   * @param concurrency parallel handshakes
   * @returns counts and the first few errors
   */
  async connect(specs: ClientSpec[], concurrency = 50): Promise<{ connected: number; failed: number; errors: string[] }> {
    let connected = 0;
    let failed = 0;
    const errors: string[] = [];
    let next = 0;
    const runner = async () => {
      while (next < specs.length) {
        const spec = specs[next++] as ClientSpec;
        try {
          await this.connectOne(spec);
          connected++;
        } catch (err) {
          failed++;
          if (errors.length < 5) errors.push(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, runner));
    return { connected, failed, errors };
  }

  /**
   * Connects one device and waits for the handshake (bounded: 20 s).
   * @param spec the device
   * @param timeoutMs handshake limit
   * @returns the socket
   */
  connectOne(spec: ClientSpec, timeoutMs = 20_000): Promise<ChatSocket> {
    const socket: ChatSocket = io(spec.url, {
      transports: ['websocket'],
      auth: { deviceId: spec.deviceId, deviceSecret: spec.deviceSecret, token: spec.token },
      reconnection: false,
      forceNew: true,
      ...this.socketOptions,
    });
    const client: Client = { spec, socket, pendingAcks: [], ackTimer: undefined };
    this.clients.set(spec.key, client);
    socket.on('message:new', (m) => this.onMessage(client, m));
    // receipts held back while disconnected go out as soon as the socket is back
    socket.on('connect', () => {
      for (const l of this.connectionListeners) l(spec.key, true);
      this.flushAcks(client);
    });
    socket.on('disconnect', () => {
      for (const l of this.connectionListeners) l(spec.key, false);
    });
    socket.on('mailbox:empty', () => {
      for (const l of this.mailboxEmptyListeners) l(spec.key);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`handshake timeout for client ${spec.key}`));
      }, timeoutMs);
      const onConnect = () => {
        cleanup();
        resolve(socket);
      };
      const onError = (err: Error & { data?: { code?: string } }) => {
        // with reconnection on (fault suite), socket.io keeps trying; only fail fast without it
        if (this.socketOptions.reconnection) return;
        cleanup();
        this.clients.delete(spec.key);
        socket.close();
        reject(new Error(`connect_error ${err.data?.code ?? ''} ${err.message}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
      };
      socket.on('connect', onConnect);
      socket.on('connect_error', onError);
    });
  }

  /** @returns how many sockets are connected right now */
  connectedCount(): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.socket.connected) n++;
    return n;
  }

  /**
   * Listens to every received envelope (fault suite bookkeeping).
   * @param fn listener
   */
  onEnvelope(fn: (key: number, m: MessageNew) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Listens to every connect and disconnect of a hosted socket (the fault suite's ledger).
   * @param fn listener
   */
  onConnection(fn: (key: number, connected: boolean) => void): void {
    this.connectionListeners.push(fn);
  }

  /**
   * Listens to `mailbox:empty`.
   * @param fn listener
   */
  onMailboxEmpty(fn: (key: number) => void): void {
    this.mailboxEmptyListeners.push(fn);
  }

  private onMessage(client: Client, m: MessageNew): void {
    const now = performance.now();
    const id = `${client.spec.key}:${m.messageId}`;
    if (this.received.has(id)) this.duplicates++;
    else {
      this.received.add(id);
      this.deliveries++;
      if (this.windowOpen) this.deliveriesInWindow++;
      this.lastDeliveryAt = now;
      if (m.body.length >= 24) {
        const h = Buffer.from(m.body.slice(0, 24), 'base64');
        if (h.length >= HEADER_BYTES && this.flowsById.has(h.readUInt32LE(0))) this.e2e.add(now - h.readDoubleLE(8));
      }
    }
    for (const l of this.listeners) l(client.spec.key, m);
    // batch acks: one `message:ack` per client every 20 ms or 200 ids
    client.pendingAcks.push(m.messageId);
    if (client.pendingAcks.length >= 200) this.flushAcks(client);
    else client.ackTimer ??= setTimeout(() => this.flushAcks(client), 20);
  }

  private flushAcks(client: Client): void {
    if (client.ackTimer) clearTimeout(client.ackTimer);
    client.ackTimer = undefined;
    if (client.pendingAcks.length === 0 || !client.socket.connected) return;
    const ids = client.pendingAcks.splice(0, 500);
    client.socket.emit('message:ack', { messageIds: ids });
    if (client.pendingAcks.length) client.ackTimer = setTimeout(() => this.flushAcks(client), 0);
  }

  /**
   * Runs one load step over this host's flows and measures it.
   * @param spec the step
   * @returns the measurements
   */
  async run(spec: RunSpec): Promise<RunResult> {
    this.e2e = new Reservoir();
    this.ackLat = new Reservoir();
    this.deliveries = 0;
    this.deliveriesInWindow = 0;
    this.duplicates = 0;
    this.received.clear();
    this.flowsById.clear();
    const template = randomBytes(spec.bodyBytes);
    // clientMessageId is the server's idempotency key: it must never repeat across steps or runs
    const nonce = randomBytes(6).toString('hex');
    const acked: { flow: FlowState; messageId: string }[] = [];
    const ackErrors: Record<string, number> = {};
    let sent = 0;
    let stopped = false;
    let outstanding = 0;
    let onIdle: (() => void) | undefined;
    const flows = spec.flows.map((f) => {
      // random phase: flows of a throttled step must not all fire at t=0
      const st: FlowState = { spec: f, seq: 0, inflight: 0, tokens: spec.ratePerFlow > 0 ? randomInt(0, 1_000_000) / 1_000_000 : 1, done: false };
      this.flowsById.set(f.id, st);
      return st;
    });

    const sendOne = (flow: FlowState) => {
      const client = this.clients.get(flow.spec.sender);
      if (!client) throw new Error(`sender ${flow.spec.sender} not hosted here`);
      const seq = flow.seq++;
      const t0 = performance.now();
      template.writeUInt32LE(flow.spec.id, 0);
      template.writeUInt32LE(seq, 4);
      template.writeDoubleLE(t0, 8);
      const body = template.toString('base64');
      flow.inflight++;
      outstanding++;
      sent++;
      client.socket.timeout(spec.ackTimeoutMs ?? 30_000).emit(
        'message:send',
        {
          conversationId: flow.spec.conversationId,
          clientMessageId: `b${nonce}-${flow.spec.id}-${seq}`,
          envelopes: flow.spec.envelopes.map((e) => ({ userId: e.userId, deviceId: e.deviceId, type: 1, body })),
        },
        (err: Error | null, res: Ack<MessageSendResult>) => {
          flow.inflight--;
          outstanding--;
          if (err) ackErrors.timeout = (ackErrors.timeout ?? 0) + 1;
          else if (!res.ok) ackErrors[res.error.code] = (ackErrors[res.error.code] ?? 0) + 1;
          else {
            if (res.data.duplicate) ackErrors.duplicate_ack = (ackErrors.duplicate_ack ?? 0) + 1;
            this.ackLat.add(performance.now() - t0);
            acked.push({ flow, messageId: res.data.messageId });
          }
          if (!stopped) pump(flow);
          else if (outstanding === 0) onIdle?.();
        },
      );
    };

    const pump = (flow: FlowState) => {
      while (!flow.done && flow.inflight < spec.window && (spec.ratePerFlow === 0 || flow.tokens >= 1)) {
        if (flow.spec.maxMessages && flow.seq >= flow.spec.maxMessages) {
          flow.done = true;
          break;
        }
        if (spec.ratePerFlow > 0) flow.tokens -= 1;
        sendOne(flow);
      }
    };

    const start = performance.now();
    this.windowOpen = true;
    let ticker: NodeJS.Timeout | undefined;
    if (spec.ratePerFlow > 0) {
      let last = start;
      // token bucket per flow; at most ~50 ms of burst so a stall does not turn into a flood
      const cap = Math.max(1, spec.ratePerFlow * 0.05);
      ticker = setInterval(() => {
        const now = performance.now();
        const add = (spec.ratePerFlow * (now - last)) / 1000;
        last = now;
        for (const f of flows) {
          f.tokens = Math.min(cap, f.tokens + add);
          pump(f);
        }
      }, 5);
    }
    for (const f of flows) pump(f);

    // send phase, ending early if every flow hit its message cap and nothing is in flight
    await new Promise<void>((resolve) => {
      const end = setTimeout(resolve, spec.durationMs);
      const check = setInterval(() => {
        if (flows.every((f) => f.done) && outstanding === 0) {
          clearTimeout(end);
          clearInterval(check);
          resolve();
        }
      }, 20);
      end.unref?.();
      setTimeout(() => clearInterval(check), spec.durationMs + 10);
    });
    stopped = true;
    this.windowOpen = false;
    if (ticker) clearInterval(ticker);
    const windowMs = performance.now() - start;
    const sendEnd = performance.now();

    // tail: outstanding acks, then every expected delivery (bounded)
    const deadline = Date.now() + spec.drainTimeoutMs;
    if (outstanding > 0) {
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        setTimeout(resolve, spec.drainTimeoutMs);
      });
    }
    let pending: string[] = [];
    for (const a of acked) for (const r of a.flow.spec.recipients) pending.push(`${r}:${a.messageId}`);
    const expected = pending.length;
    pending = pending.filter((id) => !this.received.has(id));
    while (Date.now() < deadline && pending.length > 0) {
      await new Promise((r) => setTimeout(r, 50));
      pending = pending.filter((id) => !this.received.has(id));
    }
    const lost = pending.length;
    // let the batched receipt acks go out before the next step
    await new Promise((r) => setTimeout(r, 50));
    return {
      sent,
      acked: acked.length,
      ackErrors,
      deliveries: this.deliveries,
      deliveriesInWindow: this.deliveriesInWindow,
      windowMs,
      tailMs: Math.max(0, this.lastDeliveryAt - sendEnd),
      duplicates: this.duplicates,
      lost,
      expected,
      e2e: this.e2e.values(),
      ack: this.ackLat.values(),
    };
  }

  /**
   * Connects a device whose mailbox was filled while it was offline and times the drain.
   * @param spec the device
   * @param expect distinct envelopes expected
   * @param timeoutMs limit
   * @returns the timings
   */
  async drain(spec: ClientSpec, expect: number, timeoutMs: number): Promise<DrainResult> {
    this.received.clear();
    this.duplicates = 0;
    let count = 0;
    const t0 = performance.now();
    let firstAt = 0;
    let allAt = 0;
    let emptyAt = 0;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    const check = () => {
      if (allAt && emptyAt) resolveDone();
    };
    this.onEnvelope((key) => {
      if (key !== spec.key) return;
      const now = performance.now();
      if (!firstAt) firstAt = now;
      count = this.received.size;
      if (count >= expect && !allAt) {
        allAt = now;
        check();
      }
    });
    this.onMailboxEmpty((key) => {
      if (key !== spec.key || emptyAt) return;
      // `mailbox:empty` before all envelopes arrived would be a bug; record it anyway
      emptyAt = performance.now();
      check();
    });
    await this.connectOne(spec);
    const connectMs = performance.now() - t0;
    await Promise.race([done, new Promise((r) => setTimeout(r, timeoutMs))]);
    const ms = (t: number) => (t ? t - t0 : -1);
    return { connectMs, firstMessageMs: ms(firstAt), allReceivedMs: ms(allAt), mailboxEmptyMs: ms(emptyAt), received: this.received.size, duplicates: this.duplicates };
  }

  /**
   * Disconnects clients.
   * @param keys which (default: all)
   */
  disconnect(keys?: number[]): void {
    for (const k of keys ?? [...this.clients.keys()]) {
      const c = this.clients.get(k);
      if (!c) continue;
      if (c.ackTimer) clearTimeout(c.ackTimer);
      c.socket.close();
      this.clients.delete(k);
    }
  }
}
