import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { PrivateKey } from '@signalapp/libsignal-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '@cipherchat/contracts';
import { createLogger, parseConfig } from '@cipherchat/service-kit';
import {
  LogCapture,
  TokenIssuer,
  createTestDatabase,
  deleteBusObjects,
  deleteRedisKeys,
  runNames,
  testInfra,
  type TestDatabase,
} from '@cipherchat/service-kit/testing';
import { createApp, type App } from '../../src/app.js';
import { configSchema, type Config } from '../../src/config.js';
import { testEnv } from '../../src/testing.js';

/** A typed socket.io client. */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Shared infrastructure of one test file: database, exchange, Redis prefix, token mint. */
export interface TestEnv {
  db: TestDatabase;
  /** Mints access tokens chat-service accepts (in-process: its key set is the app's verifier). */
  mint: TokenIssuer;
  env: Record<string, string>;
  attachmentsDir: string;
  /** Starts an in-process instance on a free port. */
  start(overrides?: Record<string, string>): Promise<Instance>;
  /** Queues the test itself declared (probes), deleted on close. */
  extraQueues: string[];
  /** Closes every instance, drops the database, deletes the run's Redis keys, queues and exchange. */
  close(): Promise<void>;
}

/** One running chat-service. */
export interface Instance {
  app: App;
  url: string;
  config: Config;
  logs: LogCapture;
}

/**
 * @param prefix database name prefix
 * @param extraEnv config overrides shared by every instance
 * @returns the test environment
 */
export async function createTestEnv(prefix = 'chat', extraEnv: Record<string, string> = {}): Promise<TestEnv> {
  const names = runNames(prefix);
  const db = await createTestDatabase(names);
  const mint = await TokenIssuer.create();
  const attachmentsDir = await mkdtemp(path.join(tmpdir(), 'chat-att-'));
  const env = testEnv({ names, databaseUrl: db.url, attachmentsDir, amqpUrl: testInfra.amqpUrl, redisUrl: testInfra.redisUrl, overrides: extraEnv });
  const instances: Instance[] = [];
  const extraQueues: string[] = [];
  return {
    db,
    mint,
    env,
    attachmentsDir,
    extraQueues,
    async start(overrides = {}) {
      const config = parseConfig(configSchema, { ...env, ...overrides });
      const logs = new LogCapture();
      const app = await createApp(config, {
        logger: createLogger('chat-service', config.LOG_LEVEL, logs),
        verifyToken: mint.verifyToken,
      });
      const port = await app.listen(0);
      const inst = { app, url: `http://127.0.0.1:${port}`, config, logs };
      instances.push(inst);
      return inst;
    },
    async close() {
      for (const i of instances) await i.app.close();
      await db.drop();
      await rm(attachmentsDir, { recursive: true, force: true });
      await deleteBusObjects(env.AMQP_URL as string, env.BUS_EXCHANGE, [`${env.QUEUE_PREFIX}.user-deleted`, ...extraQueues]);
      await deleteRedisKeys(env.REDIS_URL as string, `${env.REDIS_PREFIX}:*`);
    },
  };
}

/** Parsed JSON of an answer; tests index into it freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Device secrets handed out by `POST /devices` through {@link api}, by `<userId>:<deviceId>`:
 * {@link api} sends them on device routes and {@link connect} in the handshake, so tests act
 * as a device the way a real client does unless they pass another secret (or `null`: none).
 */
const deviceSecrets = new Map<string, string>();

/** The user id (`sub`) of an access token minted by a {@link TokenIssuer}. */
function subjectOf(token: string): string | undefined {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub;
  } catch {
    return undefined;
  }
}

/**
 * @param userId owner
 * @param deviceId device
 * @returns the device secret a test registered for that device, if any
 */
export function deviceSecretOf(userId: string, deviceId: number): string | undefined {
  return deviceSecrets.get(`${userId}:${deviceId}`);
}

/** A JSON HTTP answer. */
export interface Res<T = Json> {
  status: number;
  body: T;
}

/** The known secret of the user's lowest registered device other than `not` (else `not`'s own). */
function proofFor(userId: string, not?: number): { deviceId: number; secret: string } | null {
  const ids = [...deviceSecrets.keys()].filter((k) => k.startsWith(`${userId}:`)).map((k) => Number(k.slice(userId.length + 1)));
  const own = ids.filter((i) => i !== not).sort((a, b) => a - b)[0] ?? not;
  const secret = own === undefined ? undefined : deviceSecretOf(userId, own);
  return own !== undefined && secret ? { deviceId: own, secret } : null;
}

/** Proof of one of the account's devices (`X-Device-Id` + `X-Device-Secret`). */
export type DeviceProof = { deviceId: number | string; secret: string };
/**
 * `METHOD path` of the routes that need a {@link DeviceProof} besides `DELETE /devices/:id`
 * (`POST /reports` only with `block: true`; the harness sends the proof on every report).
 */
const PROOF_ROUTE =
  /^(PUT \/(backup|privacy|blocks\/[^/?]+)|DELETE \/blocks\/[^/?]+|POST \/(conversations|reports)|POST \/conversations\/[^/?]+\/(accept|decline|members))(\?|$)/;

/**
 * Calls the API with a bearer token.
 * @param base instance URL
 * @param token access token (omit for anonymous)
 * @param method HTTP method
 * @param p path under /api/chat
 * @param body JSON body (or raw string to send as is)
 * @param opts `deviceSecret` for `X-Device-Secret` on `/devices/:id/…` routes (default: the
 *   secret registered for that device of the token's user; `null`: send none); `proof` for the
 *   account-changing routes ({@link PROOF_ROUTE}, `DELETE /devices/:id`; default: the user's first
 *   registered device other than the one removed, else that one; `null`: send none)
 * @returns status and parsed body
 */
export async function api<T = Json>(
  base: string,
  token: string | undefined,
  method: string,
  p: string,
  body?: unknown,
  opts: { deviceSecret?: string | null; proof?: DeviceProof | null } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const userId = token ? subjectOf(token) : undefined;
  const deviceRoute = /^\/devices\/(\d+)\//.exec(p);
  const deviceSecret = opts.deviceSecret === undefined ? (userId && deviceRoute ? deviceSecretOf(userId, Number(deviceRoute[1])) : undefined) : opts.deviceSecret;
  if (deviceSecret) headers['x-device-secret'] = deviceSecret;
  const removed = method === 'DELETE' ? /^\/devices\/(\d+)$/.exec(p) : null;
  if (removed || PROOF_ROUTE.test(`${method} ${p}`)) {
    const proof = opts.proof === undefined && userId ? proofFor(userId, removed ? Number(removed[1]) : undefined) : opts.proof;
    if (proof) Object.assign(headers, { 'x-device-id': String(proof.deviceId), 'x-device-secret': proof.secret });
  }
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${base}/api/chat${p}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (userId && removed && res.status === 204) deviceSecrets.delete(`${userId}:${removed[1]}`);
  if (userId && method === 'POST' && p === '/devices' && res.status === 201) {
    const created = parsed as { deviceId: number; deviceSecret: string };
    deviceSecrets.set(`${userId}:${created.deviceId}`, created.deviceSecret);
  }
  return { status: res.status, body: parsed as T };
}

/** Signal key material of one account identity (libsignal-client, the reference implementation). */
export class SignalIdentity {
  readonly identity = PrivateKey.generate();
  private nextPreKeyId = 1;

  /** @returns base64 of the 33-byte serialized identity public key */
  get identityKey(): string {
    return Buffer.from(this.identity.getPublicKey().serialize()).toString('base64');
  }

  /**
   * Builds a key upload body for one device.
   * @param preKeys how many one-time prekeys to include
   * @param signedKeyId signed prekey id
   * @returns the body
   */
  upload(preKeys = 5, signedKeyId = 1) {
    const spk = PrivateKey.generate().getPublicKey().serialize();
    const signature = this.identity.sign(spk);
    return {
      registrationId: randomInt(1, 16380),
      identityKey: this.identityKey,
      signedPreKey: { keyId: signedKeyId, publicKey: Buffer.from(spk).toString('base64'), signature: Buffer.from(signature).toString('base64') },
      preKeys: Array.from({ length: preKeys }, () => ({
        keyId: this.nextPreKeyId++,
        publicKey: Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64'),
      })),
    };
  }
}

/** A test user with one registered device that uploaded keys. */
export interface TestUser {
  userId: string;
  token: string;
  deviceId: number;
  signal: SignalIdentity;
}

/**
 * Creates a user (token), registers `devices` devices and uploads keys for each.
 * @param inst instance
 * @param mint token mint
 * @param devices device count
 * @returns the user with the first device id
 */
export async function createUser(inst: Instance, mint: TokenIssuer, devices = 1): Promise<TestUser & { deviceIds: number[] }> {
  const userId = randomUUID();
  const token = await mint.mint(userId);
  const signal = new SignalIdentity();
  const deviceIds: number[] = [];
  for (let i = 0; i < devices; i++) {
    const d = await api(inst.url, token, 'POST', '/devices', { name: `device ${i + 1}` });
    if (d.status !== 201) throw new Error(`device registration failed: ${JSON.stringify(d)}`);
    const k = await api(inst.url, token, 'PUT', `/devices/${d.body.deviceId}/keys`, signal.upload());
    if (k.status !== 200) throw new Error(`key upload failed: ${JSON.stringify(k)}`);
    deviceIds.push(d.body.deviceId);
  }
  return { userId, token, deviceId: deviceIds[0] as number, deviceIds, signal };
}

/**
 * Connects a socket and waits for the connection (or rejects with the connect_error).
 * @param url instance URL
 * @param token access token
 * @param deviceId device
 * @param opts `deviceSecret` for the handshake (default: the secret registered for that device
 *   of the token's user; `null`: send none); `listen` attaches listeners before the connection opens
 * @returns the connected socket
 */
export function connect(
  url: string,
  token: string,
  deviceId: number,
  opts: { reconnection?: boolean; deviceSecret?: string | null; listen?: (socket: ClientSocket) => void } = {},
): Promise<ClientSocket> {
  const userId = subjectOf(token);
  const deviceSecret = opts.deviceSecret === undefined ? (userId ? deviceSecretOf(userId, deviceId) : undefined) : opts.deviceSecret;
  const socket: ClientSocket = ioClient(url, {
    path: '/socket.io/',
    auth: deviceSecret ? { deviceId, deviceSecret, token } : { deviceId, token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  // Listeners attached here see every event: the connection opens on a later turn. Attached after
  // `await connect()`, they can miss events that arrived in the same network read as the connect.
  opts.listen?.(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/**
 * Emits with an ack and resolves with the ack.
 * @param socket socket
 * @param event event
 * @param payload payload
 * @returns the ack
 */
export function request<T = Json>(socket: ClientSocket, event: string, payload?: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
  return (socket as unknown as Socket).timeout(timeoutMs).emitWithAck(event, payload) as Promise<Ack<T>>;
}

/**
 * Collects `message:new` events of a socket.
 * @param socket socket
 * @returns a collector
 */
export function inbox(socket: ClientSocket) {
  const messages: Parameters<ServerToClientEvents['message:new']>[0][] = [];
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  socket.on('message:new', (m) => {
    messages.push(m);
    for (const w of [...waiters]) if (w.done()) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const wait = async (done: () => boolean, what: string, timeoutMs: number) => {
    if (done()) return messages;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what} (got ${messages.length} messages)`)), timeoutMs);
      waiters.push({ done, resolve: () => (clearTimeout(t), resolve()) });
    });
    return messages;
  };
  return {
    messages,
    /** Resolves when at least n messages arrived. */
    waitFor: (n: number, timeoutMs = 15_000) => wait(() => messages.length >= n, `${n} messages`, timeoutMs),
    /** Resolves when every one of these message ids arrived (duplicates allowed). */
    waitForIds: (ids: readonly string[], timeoutMs = 15_000) => {
      const want = new Set(ids);
      return wait(() => want.size === 0 || (messages.forEach((m) => want.delete(m.messageId)), want.size === 0), `${ids.length} ids`, timeoutMs);
    },
  };
}

/**
 * Waits for one event on a socket.
 * @param socket socket
 * @param event event name
 * @param timeoutMs limit
 * @returns the first argument
 */
export function nextEvent<T = unknown>(socket: ClientSocket, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    (socket as unknown as Socket).once(event, (arg: T) => {
      clearTimeout(t);
      resolve(arg);
    });
  });
}

/**
 * Connects a device and waits until its mailbox was drained (`mailbox:empty`), with an inbox that
 * was listening before the connection opened, so no drained message can slip past it.
 * @param url instance URL
 * @param token access token
 * @param deviceId device
 * @param drainTimeoutMs limit for the connection and the drain
 * @returns the socket and its inbox
 */
export async function connectDrained(url: string, token: string, deviceId: number, drainTimeoutMs = 10_000) {
  let box!: ReturnType<typeof inbox>;
  let drained!: Promise<unknown>;
  const socket = await connect(url, token, deviceId, {
    listen: (s) => {
      box = inbox(s);
      drained = nextEvent(s, 'mailbox:empty', drainTimeoutMs);
      drained.catch(() => undefined); // awaited below; a failed connect must not leave it unhandled
    },
  });
  await drained;
  return { socket, box };
}

/** A base64 body that is not real ciphertext but is opaque to the server. */
export function fakeBody(text = 'ciphertext'): string {
  return Buffer.from(`${text}:${randomUUID()}`).toString('base64');
}

/**
 * Runs `send` with `before` run by the instance's message writer just before it writes (after
 * the send's presence lookup; deterministic: `before` completes first), then restores the writer.
 * @param inst the instance whose writer is wrapped
 * @param before what happens in between
 * @param send the send
 * @returns what `send` returns
 */
export async function beforeTheWrite<T>(inst: Instance, before: () => Promise<unknown>, send: () => Promise<T>): Promise<T> {
  const writer = inst.app.ctx.writer;
  const original = writer.write.bind(writer);
  writer.write = async (input) => {
    await before();
    return original(input);
  };
  try {
    return await send();
  } finally {
    writer.write = original;
  }
}
