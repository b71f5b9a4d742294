import * as opaque from '@serenity-kit/opaque';
import {
  AuthResult,
  LoginFinishBody,
  LoginStartAnswer,
  LoginStartBody,
  Me,
  PasswordChangeFinishBody,
  PasswordChangeStartBody,
  PasswordResetFinishBody,
  PasswordResetRequestBody,
  PasswordResetStartBody,
  PublicUser,
  RegisterFinishBody,
  RegisterStartBody,
  RegistrationStartAnswer,
} from '@cipherchat/contracts';
import { z } from 'zod';
import { decryptAttachment, encryptAttachment } from '../attachments/attachment-crypto.js';
import {
  BackupUnlockError,
  generateDataKey,
  openBackup,
  privateStateFromBackup,
  unlockBackup,
  wrapDataKey,
  WrappedKeys as WrappedKeysSchema,
  type BackupPayload,
  type WrappedKeys,
} from '../backup/key-backup.js';
import { generateRecoveryKey } from '../backup/recovery-key.js';
import { AttachmentPointer, PlaintextMessage, type StoredMessage } from '../messages/message.schema.js';
import { fromBase64, fromUtf8, randomId, toBase64, utf8 } from '../protocol/bytes.js';
import { DecryptError, ProtocolError, UntrustedIdentityError } from '../protocol/errors.js';
import type { SafetyNumber } from '../protocol/fingerprint.js';
import {
  decodeBundle,
  generateLocalIdentity,
  generatePreKeys,
  generateRegistrationId,
  generateSignedPreKey,
  PREKEY_BATCH,
  PREKEY_REFILL_THRESHOLD,
  SIGNED_PREKEY_GRACE_MS,
  SIGNED_PREKEY_MAX_AGE_MS,
  toKeyUpload,
} from '../protocol/keys.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import { SignalProtocol, type IdentityChange } from '../protocol/signal-protocol.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { ApiClient, type ApiClientOptions, type Tokens } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import {
  SocketAckError,
  SocketClient,
  type IncomingEnvelope,
  type OutgoingEnvelope,
} from '../transport/socket-client.js';
import { BackupSync, fetchBackup } from './backup-sync.js';
import { Emitter } from './emitter.js';


/** Handshake refusals that retrying cannot fix. */
const FINAL_REFUSALS = new Set(['invalid_device_credentials', 'unknown_device', 'account_deleted', 'origin_not_allowed']);
/** Options of `ChatClient`. */
export interface ChatClientOptions extends ApiClientOptions {
  /** Socket.IO origin (default `baseUrl`). */
  socketUrl?: string;
  /** Socket.IO path (default `/socket.io/`). */
  socketPath?: string;
  /**
   * Opens the local store of an account (default: a fresh in-memory store). Gets the OPAQUE
   * export key too, for stores that seal themselves with a password-derived key (CLI file).
   */
  openStore?: (userId: string, ctx: { exportKey?: string | undefined }) => Promise<ProtocolStore>;
  /** Name of this device as shown in the device list. */
  deviceName?: string;
  /** Quiet period before a background backup upload (default 1000 ms). */
  backupDebounceMs?: number;
}

/** Events of `ChatClient`. */
export interface ChatClientEvents {
  /** A text or attachment message (incoming, or a copy of what I sent from another device). */
  message: (m: StoredMessage) => void;
  /** Someone received or read my messages. */
  receipt: (r: { conversationId: string; fromUserId: string; type: 'delivered' | 'read'; messageIds: string[] }) => void;
  typing: (t: { conversationId: string; userId: string; on: boolean }) => void;
  presence: (p: { userId: string; online: boolean; lastSeenAt?: string | null | undefined }) => void;
  /** A contact's identity key changed: sending to them is blocked until `acceptIdentity`. */
  identityChanged: (c: { userId: string }) => void;
  /** An envelope could not be used (it is acknowledged and dropped; never thrown). */
  decryptFailed: (e: { messageId: string; senderUserId: string; senderDeviceId: number; code: string }) => void;
  /** A background task (backup upload, prekey refill) failed. */
  error: (err: unknown) => void;
  /** The server reported my mailbox drained. */
  mailboxEmpty: () => void;
  /**
   * The socket connected (`online: true`, also after an automatic reconnection) or dropped
   * (`online: false`; Socket.IO keeps retrying). Not emitted by {@link ChatClient.disconnect}.
   */
  connection: (c: { online: boolean }) => void;
}

/** Result of logging in. */
export interface LogInResult {
  user: Me;
  /** How the identity was obtained on this device. */
  identity: 'local' | 'restored' | 'created';
  /** A new recovery key, only when a new identity (and backup) was created: show it once. */
  recoveryKey?: string | undefined;
}

/** The key backup exists but this password cannot open it (password was reset). */
export class BackupLockedError extends Error {
  constructor() {
    super('the key backup was sealed under an older password; give the recovery key, or start a new identity');
    this.name = 'BackupLockedError';
  }
}

/**
 * Checks a request body against the user-service contract before it leaves, so bad input
 * (malformed email, username) fails fast with the same code the server would use.
 */
function body<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ApiError(400, 'validation_error', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
  }
  return parsed.data;
}

interface Session {
  user: Me;
  exportKey: string;
  store: ProtocolStore;
  protocol: SignalProtocol;
  backup: BackupSync;
  dataKey: CryptoKey;
  wrappedKeys: WrappedKeys;
}

const META_DEVICE = 'deviceId';
/**
 * This device's secret from `POST /devices`, next to its id in the local store (sealed with the
 * device key in browsers). It proves to chat-service that a socket or key upload comes from
 * this device and not just from some session of the user, so it stays on this device: it is
 * not part of the key backup.
 */
const META_DEVICE_SECRET = 'deviceSecret';
const META_KEYS_UPLOADED = 'keysUploadedForDevice';
const META_NEXT_PREKEY = 'nextPreKeyId';
const META_SEEN = 'seenServerIds';
/**
 * The backup data key and its wraps, kept in the local store so a reload can resume without the
 * password. In browsers the store seals every record with the non-extractable device key, so
 * this is as protected as the identity private key next to it.
 */
const META_BACKUP_KEY = 'backupKey';
const BackupKeyMeta = z.object({ dataKey: z.string(), wrappedKeys: WrappedKeysSchema });
const SEEN_LIMIT = 500;
/** How often a connected client checks its prekeys (refill, signed prekey rotation). */
const MAINTENANCE_INTERVAL_MS = 6 * 60 * 60 * 1000;

/**
 * The headless chat client: account (OPAQUE), device keys, key backup, end-to-end encrypted
 * messaging with multi-device fan-out, receipts, typing, attachments and safety numbers.
 * The web client, the CLI, the tests and the benchmark all drive the product through it.
 */
export class ChatClient extends Emitter<ChatClientEvents> {
  /** HTTP client (exposed for advanced callers and tests). */
  readonly api: ApiClient;
  private readonly options: ChatClientOptions;
  private session: Session | undefined;
  private socket: SocketClient | undefined;
  private readonly conversations = new Map<string, Conversation>();
  private readonly incoming = new KeyedSerialQueue();
  /** Sockets {@link recoverSocket} is bringing back (one loop each). */
  private readonly recovering = new WeakSet<SocketClient>();
  /** Serialises {@link setupDevice}. */
  private readonly deviceSetup = new KeyedSerialQueue();
  /** Serialises session building per contact (see {@link ensureSessions}). */
  private readonly sessionBuilds = new KeyedSerialQueue();
  private readonly pendingUntrusted = new Map<string, IncomingEnvelope[]>();
  private seen: string[] = [];
  private maintenance: ReturnType<typeof setInterval> | undefined;

  /** @param options endpoints, store factory, device name */
  constructor(options: ChatClientOptions) {
    super();
    this.options = options;
    this.api = new ApiClient(options);
  }

  /** @returns the logged-in user. @throws when logged out */
  get user(): Me {
    return this.requireSession().user;
  }

  /** @returns this device's id, once set up. */
  async deviceId(): Promise<number | undefined> {
    const v = await this.session?.store.getMeta(META_DEVICE);
    return typeof v === 'number' ? v : undefined;
  }

  /** @returns this device's secret (header `x-device-secret`, handshake `auth.deviceSecret`), once set up. */
  private async deviceSecret(): Promise<string | undefined> {
    const v = await this.session?.store.getMeta(META_DEVICE_SECRET);
    return typeof v === 'string' && v !== '' ? v : undefined;
  }

  /** @returns the local store (history, protocol state) of the logged-in account. */
  get store(): ProtocolStore {
    return this.requireSession().store;
  }

  private requireSession(): Session {
    if (!this.session) throw new ProtocolError('no_local_identity', 'not logged in');
    return this.session;
  }

  // ---------------------------------------------------------------- account

  /**
   * Creates an account with OPAQUE (the password never leaves this process), logs in, creates
   * the identity and device keys, and uploads the first key backup.
   * @param input account fields and password
   * @returns the recovery key: show it once, it is the only way to keep history keys after a reset
   */
  async signUp(input: {
    email: string;
    username: string;
    displayName: string;
    password: string;
    connect?: boolean;
  }): Promise<{
    user: Me;
    recoveryKey: string;
  }> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: input.password });
    const { registrationResponse } = await this.api.request('user', 'POST', '/auth/register/start', {
      json: body(RegisterStartBody, { email: input.email, username: input.username, registrationRequest }),
      schema: RegistrationStartAnswer,
      auth: false,
    });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.password,
    });
    // register/finish answers like login/finish (tokens), and the registration's export key is
    // the one every later login yields, so the account opens without a second round trip.
    const auth = await this.api.request('user', 'POST', '/auth/register/finish', {
      json: body(RegisterFinishBody, {
        email: input.email,
        username: input.username,
        displayName: input.displayName,
        registrationRecord,
      }),
      schema: AuthResult,
      auth: false,
    });
    const result = await this.openAccount(auth, exportKey, { connect: input.connect ?? true });
    if (!result.recoveryKey) throw new Error('a new account must get a new identity and recovery key');
    return { user: result.user, recoveryKey: result.recoveryKey };
  }

  private async opaqueLogin(email: string, password: string): Promise<{ auth: AuthResult; exportKey: string }> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { loginResponse } = await this.api.request('user', 'POST', '/auth/login/start', {
      json: body(LoginStartBody, { email, startLoginRequest }),
      schema: LoginStartAnswer,
      auth: false,
    });
    const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
    if (!finished) throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
    const auth = await this.api.request('user', 'POST', '/auth/login/finish', {
      json: body(LoginFinishBody, { email, finishLoginRequest: finished.finishLoginRequest }),
      schema: AuthResult,
      auth: false,
    });
    return { auth, exportKey: finished.exportKey };
  }

  /**
   * Logs in with OPAQUE, then opens the identity: the local one, else restored from the key
   * backup (new device), else a new one (first login). Then sets up this device and connects.
   * @param input email and password; `recoveryKey` to open a backup sealed under an older
   *   password; `startFresh` to abandon such a backup and create a new identity
   * @returns the user and where the identity came from
   * @throws {ApiError} `invalid_credentials`
   * @throws {BackupLockedError} the backup needs the recovery key
   */
  async logIn(input: {
    email: string;
    password: string;
    recoveryKey?: string;
    startFresh?: boolean;
    connect?: boolean;
  }): Promise<LogInResult> {
    const { auth, exportKey } = await this.opaqueLogin(input.email, input.password);
    return this.openAccount(auth, exportKey, input);
  }

  /** Opens the account after OPAQUE: tokens, store, identity (local / backup / new), device. */
  private async openAccount(
    auth: AuthResult,
    exportKey: string,
    input: { recoveryKey?: string; startFresh?: boolean; connect?: boolean },
  ): Promise<LogInResult> {
    this.api.setTokens({
      accessToken: auth.accessToken,
      refreshToken: auth.refreshToken,
      accessTokenExpiresAt: auth.accessTokenExpiresAt,
    });
    const userId = auth.user.id;
    const store = await (this.options.openStore ?? (async () => createMemoryStore()))(userId, { exportKey });
    const remote = await fetchBackup(this.api);

    let identity: LogInResult['identity'] = 'local';
    let recoveryKey: string | undefined;
    let dataKey: CryptoKey;
    let wrappedKeys: WrappedKeys;
    let base: BackupPayload | undefined;
    let rewrapped = false;

    if (remote && !input.startFresh) {
      let unlocked: { dataKey: CryptoKey; wrappedKeys: WrappedKeys };
      try {
        unlocked = await unlockBackup(remote.blob, userId, 'password', exportKey);
      } catch (err) {
        if (!(err instanceof BackupUnlockError)) throw err;
        if (!input.recoveryKey) throw new BackupLockedError();
        unlocked = await unlockBackup(remote.blob, userId, 'recovery', input.recoveryKey);
        // Re-seal the password copy of the data key under the new password's export key.
        unlocked.wrappedKeys = {
          ...unlocked.wrappedKeys,
          password: await wrapDataKey(unlocked.dataKey, 'password', exportKey, userId),
        };
        rewrapped = true;
      }
      dataKey = unlocked.dataKey;
      wrappedKeys = unlocked.wrappedKeys;
      base = (await openBackup(remote.blob, userId, dataKey)).payload;
      const local = await store.getLocalIdentity();
      if (!local || local.identityKeyPair.pubKey.length === 0 || toBase64(local.identityKeyPair.pubKey) !== base.identityKeyPair.pubKey) {
        // New device (or stale local state): the account identity comes from the backup;
        // this device gets its own registration id, prekeys and device id.
        await store.importPrivateState(privateStateFromBackup(base, generateRegistrationId()));
        await store.setMeta(META_DEVICE, undefined);
        await store.setMeta(META_DEVICE_SECRET, undefined);
        await store.setMeta(META_KEYS_UPLOADED, undefined);
        identity = 'restored';
      }
    } else {
      const local = await store.getLocalIdentity();
      if (!local || input.startFresh) {
        await store.clear();
        await store.setLocalIdentity(await generateLocalIdentity());
        identity = 'created';
      }
      dataKey = await generateDataKey();
      recoveryKey = generateRecoveryKey();
      wrappedKeys = {
        password: await wrapDataKey(dataKey, 'password', exportKey, userId),
        recovery: await wrapDataKey(dataKey, 'recovery', recoveryKey, userId),
      };
    }

    await this.startSession({ user: auth.user, exportKey, store, dataKey, wrappedKeys, version: remote?.version ?? 0, base });
    await this.setupDevice();
    if (identity !== 'local' || rewrapped || !remote || input.startFresh) await this.requireSession().backup.flush();
    if (input.connect !== false) await this.connect();
    return { user: auth.user, identity, recoveryKey };
  }

  private cachedDeviceId: number | undefined;

  private async startSession(input: {
    user: Me;
    exportKey: string;
    store: ProtocolStore;
    dataKey: CryptoKey;
    wrappedKeys: WrappedKeys;
    version: number;
    base: BackupPayload | undefined;
  }): Promise<void> {
    const { store, user, dataKey, wrappedKeys } = input;
    const protocol = new SignalProtocol(store, { onIdentityChange: (c) => this.onIdentityChange(c) });
    const backup = new BackupSync(
      this.api,
      store,
      {
        userId: user.id,
        deviceId: () => this.cachedDeviceId,
        dataKey,
        wrappedKeys,
        version: input.version,
        base: input.base,
      },
      this.options.backupDebounceMs ?? 1000,
    );
    backup.onError = (err) => this.emit('error', err);
    backup.onWrappedKeysAdopted = async (adopted) => {
      // Another device changed or reset the password: keep its wraps here and on disk too.
      if (this.session?.backup !== backup) return;
      this.session.wrappedKeys = adopted;
      await this.saveBackupKey();
    };
    this.session = { user, exportKey: input.exportKey, store, protocol, backup, dataKey, wrappedKeys };
    await this.saveBackupKey();
    const seen = await store.getMeta(META_SEEN);
    this.seen = Array.isArray(seen) ? seen.filter((x): x is string => typeof x === 'string') : [];
  }

  private async saveBackupKey(): Promise<void> {
    const s = this.requireSession();
    const raw = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', s.dataKey));
    await s.store.setMeta(META_BACKUP_KEY, { dataKey: toBase64(raw), wrappedKeys: s.wrappedKeys });
  }

  /**
   * Re-opens the account after a reload without asking for the password: needs a live session
   * (cookies in browsers, tokens set with `api.setTokens` elsewhere) and this device's local
   * store from an earlier login.
   * @param input `connect: false` to skip the socket
   * @returns the user, or undefined when a full `logIn` is needed
   */
  async resume(input: { connect?: boolean } = {}): Promise<Me | undefined> {
    let me: Me;
    try {
      me = await this.api.request('user', 'GET', '/me', { schema: Me });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return undefined;
      throw err;
    }
    const store = await (this.options.openStore ?? (async () => createMemoryStore()))(me.id, { exportKey: undefined });
    const saved = BackupKeyMeta.safeParse(await store.getMeta(META_BACKUP_KEY));
    const deviceId = await store.getMeta(META_DEVICE);
    if (!(await store.getLocalIdentity()) || !saved.success || typeof deviceId !== 'number') return undefined;
    const dataKey = await globalThis.crypto.subtle.importKey('raw', fromBase64(saved.data.dataKey), 'AES-GCM', true, [
      'encrypt',
      'decrypt',
    ]);
    const remote = await fetchBackup(this.api);
    const opened = remote ? await openBackup(remote.blob, me.id, dataKey) : undefined;
    await this.startSession({
      user: me,
      exportKey: '',
      store,
      dataKey,
      // The server's wraps are current (another device may have changed the password since).
      wrappedKeys: opened?.wrappedKeys ?? saved.data.wrappedKeys,
      version: remote?.version ?? 0,
      base: opened?.payload,
    });
    await this.setupDevice();
    if (input.connect !== false) await this.connect();
    return me;
  }

  /**
   * Ends the session: disconnects, uploads pending backup state, revokes the refresh token.
   * Local state stays (it is encrypted at rest in browsers) unless `forget` is set.
   * @param options `forget` wipes the local store of this account
   */
  async logOut(options: { forget?: boolean } = {}): Promise<void> {
    const s = this.session;
    this.disconnect();
    if (s) {
      await s.backup.flush().catch((err: unknown) => this.emit('error', err));
      s.backup.stop();
      const refreshToken = this.api.getTokens()?.refreshToken;
      await this.api
        .request('user', 'POST', '/auth/logout', { json: refreshToken ? { refreshToken } : {} })
        .catch(() => undefined);
      if (options.forget) await s.store.clear();
    }
    this.api.setTokens(undefined);
    this.session = undefined;
    this.cachedDeviceId = undefined;
    this.conversations.clear();
  }

  /**
   * Changes the password while logged in (OPAQUE re-registration) and re-wraps the backup's data
   * key under the new export key. The recovery key keeps working.
   * @param input the new password
   */
  async changePassword(input: { newPassword: string }): Promise<void> {
    const s = this.requireSession();
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: input.newPassword,
    });
    const { registrationResponse } = await this.api.request('user', 'POST', '/me/password/start', {
      json: body(PasswordChangeStartBody, { registrationRequest }),
      schema: RegistrationStartAnswer,
    });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.newPassword,
    });
    const wrappedKeys = { ...s.wrappedKeys, password: await wrapDataKey(s.dataKey, 'password', exportKey, s.user.id) };
    await this.api.request('user', 'POST', '/me/password/finish', {
      json: body(PasswordChangeFinishBody, { registrationRecord }),
    });
    s.wrappedKeys = wrappedKeys;
    s.exportKey = exportKey;
    s.backup.setWrappedKeys(wrappedKeys);
    await this.saveBackupKey();
    await s.backup.flush();
  }

  /**
   * Confirms the email address with the token from the verification link.
   * @param token the token from the emailed link
   */
  async verifyEmail(token: string): Promise<void> {
    await this.api.request('user', 'POST', '/auth/verify-email', { json: { token }, auth: false });
  }

  /**
   * Asks for a password-reset email.
   * @param email the account's address
   */
  async requestPasswordReset(email: string): Promise<void> {
    await this.api.request('user', 'POST', '/auth/password-reset/request', {
      json: body(PasswordResetRequestBody, { email }),
      auth: false,
    });
  }

  /**
   * Sets a new password with the emailed token (OPAQUE re-registration). With `email`, also logs
   * in: with the recovery key the identity is restored from the backup (and re-wrapped under the
   * new password); without it a new identity is started and contacts see a safety-number change.
   * @param input token, new password, recovery key, email
   * @returns the login result when `email` was given
   */
  async resetPassword(input: {
    token: string;
    newPassword: string;
    recoveryKey?: string;
    email?: string;
    connect?: boolean;
  }): Promise<LogInResult | undefined> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
      password: input.newPassword,
    });
    const { registrationResponse } = await this.api.request('user', 'POST', '/auth/password-reset/start', {
      json: body(PasswordResetStartBody, { token: input.token, registrationRequest }),
      schema: RegistrationStartAnswer,
      auth: false,
    });
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse,
      password: input.newPassword,
    });
    await this.api.request('user', 'POST', '/auth/password-reset/finish', {
      json: body(PasswordResetFinishBody, { token: input.token, registrationRecord }),
      auth: false,
    });
    if (!input.email) return undefined;
    return this.logIn({
      email: input.email,
      password: input.newPassword,
      ...(input.recoveryKey ? { recoveryKey: input.recoveryKey } : { startFresh: true }),
      ...(input.connect === undefined ? {} : { connect: input.connect }),
    });
  }

  // ---------------------------------------------------------------- device keys

  /**
   * Registers this device (once; its id and device secret stay in the local store), uploads
   * its keys, refills one-time prekeys below the threshold and rotates the signed prekey when
   * it is older than a few days.
   */
  setupDevice(): Promise<void> {
    // One at a time: a login, the maintenance timer and every incoming first message ask for it.
    // Two runs at once would both register a device or both refill prekeys under the same key
    // ids, and the server could keep one batch's public keys while this store kept the other's
    // private keys: every first message made from those bundles would then fail to decrypt.
    return this.deviceSetup.run('device', () => this.setupDeviceNow());
  }

  private async setupDeviceNow(): Promise<void> {
    const s = this.requireSession();
    const local = await s.store.getLocalIdentity();
    if (!local) throw new ProtocolError('no_local_identity', 'no identity');
    let deviceId = await this.deviceId();
    let deviceSecret = await this.deviceSecret();
    if (deviceId !== undefined && deviceSecret === undefined) {
      // Registered before device secrets existed: that device can no longer authenticate, so
      // remove it (best effort; the server may have removed it already) and register anew.
      await this.api.chat.deleteDevice(deviceId).catch(() => undefined);
      await s.store.setMeta(META_DEVICE, undefined);
      await s.store.setMeta(META_KEYS_UPLOADED, undefined);
      deviceId = undefined;
    }
    if (deviceId === undefined || deviceSecret === undefined) {
      const created = await this.api.chat.createDevice(this.options.deviceName ?? 'cipherchat client');
      deviceId = created.deviceId;
      deviceSecret = created.deviceSecret;
      // The secret first: a device id stored without its secret would be thrown away next time.
      await s.store.setMeta(META_DEVICE_SECRET, deviceSecret);
      await s.store.setMeta(META_DEVICE, deviceId);
    }
    this.cachedDeviceId = deviceId;

    let changed = false;
    let signed = (await s.store.listSignedPreKeys()).at(-1);
    const now = Date.now();
    const rotate = !signed || now - signed.createdAt > SIGNED_PREKEY_MAX_AGE_MS;
    if (rotate) {
      signed = await generateSignedPreKey(local.identityKeyPair, ((signed?.keyId ?? 0) % 0xffffff) + 1, now);
      await s.store.putSignedPreKey(signed);
      // Keep older signed prekeys for a grace period: first messages may still be in flight.
      for (const old of await s.store.listSignedPreKeys()) {
        if (old.keyId !== signed.keyId && now - old.createdAt > SIGNED_PREKEY_GRACE_MS) {
          await s.store.removeSignedPreKey(old.keyId);
        }
      }
      changed = true;
    }
    if (!signed) throw new Error('unreachable: no signed prekey');

    const uploadedFor = await s.store.getMeta(META_KEYS_UPLOADED);
    let needPreKeys = uploadedFor !== deviceId;
    if (!needPreKeys) {
      const count = await this.api.chat.preKeyCount(deviceId, deviceSecret);
      needPreKeys = count < PREKEY_REFILL_THRESHOLD;
    }
    if (needPreKeys || rotate) {
      const next = Number((await s.store.getMeta(META_NEXT_PREKEY)) ?? 1);
      const preKeys = needPreKeys ? await generatePreKeys(next, PREKEY_BATCH) : [];
      if (preKeys.length > 0) {
        await s.store.putPreKeys(preKeys);
        await s.store.setMeta(META_NEXT_PREKEY, ((next - 1 + PREKEY_BATCH) % 0xffffff) + 1);
      }
      await this.api.chat.uploadKeys(deviceId, deviceSecret, toKeyUpload(local, signed, preKeys));
      await s.store.setMeta(META_KEYS_UPLOADED, deviceId);
      changed = true;
    }
    if (changed) s.backup.schedule();
  }

  // ---------------------------------------------------------------- realtime

  /** Connects the socket and drains the mailbox. */
  async connect(): Promise<void> {
    const deviceId = await this.deviceId();
    const deviceSecret = await this.deviceSecret();
    if (deviceId === undefined || deviceSecret === undefined) throw new ProtocolError('no_local_identity', 'device not set up');
    if (this.socket?.connected) return;
    this.socket?.close();
    const socket = new SocketClient({
      url: this.options.socketUrl ?? this.options.baseUrl ?? '',
      ...(this.options.socketPath ? { path: this.options.socketPath } : {}),
      deviceId,
      deviceSecret,
      getToken: () => this.api.getTokens()?.accessToken,
    });
    socket.on('message:new', (e) => void this.receive(e));
    socket.on('presence', (p) => this.emit('presence', p));
    socket.on('typing', (t) => this.emit('typing', t));
    socket.on('mailbox:empty', () => this.emit('mailboxEmpty'));
    socket.on('conversation:updated', (e) => this.conversations.delete(e.conversationId));
    socket.on('connect', () => {
      if (this.socket === socket) this.emit('connection', { online: true });
    });
    socket.on('disconnect', () => {
      if (this.socket === socket) this.emit('connection', { online: false });
    });
    socket.on('disconnect', (reason) => {
      // The server closes sockets whose access token expired ('session:expired' first);
      // socket.io does not retry a server-side disconnect, so refresh and reconnect here.
      if (reason === 'io server disconnect') void this.recoverSocket(socket, 'token_expired');
    });
    socket.onRejected((code) => void this.recoverSocket(socket, code));
    this.socket = socket;
    // Long-lived clients: refill one-time prekeys and rotate the signed prekey on schedule too.
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = setInterval(() => {
      this.setupDevice().catch((err: unknown) => this.emit('error', err));
    }, MAINTENANCE_INTERVAL_MS);
    (this.maintenance as { unref?: () => void }).unref?.();
    try {
      await socket.connect();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'token_expired' && (await this.api.refreshNow())) {
        await socket.connect();
      } else {
        throw err;
      }
    }
    // The server drains the mailbox on every connection; nothing more to ask for here.
  }

  /** @returns whether the socket is connected right now */
  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /**
   * Current presence of users (`presence:get`). The server answers only for users who share a
   * conversation with me; the others are left out of the result.
   * @param userIds user ids (duplicates are ignored; asked in batches of 500)
   * @returns one entry per visible user
   * @throws {ApiError} `not_connected` without a socket; {@link SocketAckError} on a refused or timed-out ask
   */
  async presence(userIds: string[]): Promise<{ userId: string; online: boolean; lastSeenAt?: string | null | undefined }[]> {
    const socket = this.requireSocket();
    const ids = [...new Set(userIds)];
    const out: { userId: string; online: boolean; lastSeenAt?: string | null | undefined }[] = [];
    for (let i = 0; i < ids.length; i += 500) out.push(...(await socket.presence(ids.slice(i, i + 500))));
    return out;
  }

  /**
   * Brings a socket back after the server refused or closed it: refreshes the access token when
   * that is the reason, otherwise retries with capped exponential backoff (a restarting server
   * or a database outage refuses handshakes for a while). Stops when the socket was replaced,
   * the session cannot be refreshed, or the refusal is final (device or account gone).
   * @param socket the socket to bring back
   * @param code why it was refused or closed
   */
  private async recoverSocket(socket: SocketClient, code: string): Promise<void> {
    if (this.recovering.has(socket)) return;
    this.recovering.add(socket);
    try {
      for (let attempt = 0; this.socket === socket && !socket.connected; attempt += 1) {
        if (FINAL_REFUSALS.has(code)) {
          this.emit('error', new ApiError(401, code, 'the server refused this device'));
          return;
        }
        if ((code === 'token_expired' || code === 'unauthorized') && !(await this.api.refreshNow())) return;
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(30_000, 250 * 2 ** attempt)));
        if (this.socket !== socket) return;
        try {
          await socket.reconnect();
          return;
        } catch (err) {
          code = err instanceof ApiError ? err.code : 'connect_error';
        }
      }
    } finally {
      this.recovering.delete(socket);
    }
  }

  /** Asks the server to deliver my mailbox again (e.g. after handling was interrupted). */
  async syncMailbox(): Promise<void> {
    await this.requireSocket().syncMailbox();
  }

  /** Disconnects the socket (stays logged in). */
  disconnect(): void {
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = undefined;
    this.socket?.close();
    this.socket = undefined;
  }

  private requireSocket(): SocketClient {
    if (!this.socket) throw new ApiError(0, 'not_connected', 'socket not connected');
    return this.socket;
  }

  // ---------------------------------------------------------------- conversations

  /**
   * Creates a conversation.
   * @param input kind, other members, optional title
   * @returns the conversation
   */
  async createConversation(input: { kind: 'direct' | 'group'; memberIds: string[]; title?: string }): Promise<Conversation> {
    const c = await this.api.chat.createConversation(input);
    this.conversations.set(c.id, c);
    return c;
  }

  /** @returns my conversations */
  async listConversations(): Promise<Conversation[]> {
    const list = await this.api.chat.listConversations();
    for (const c of list) this.conversations.set(c.id, c);
    return list;
  }

  /**
   * @param id conversation id
   * @param refresh bypass the cache
   * @returns the conversation
   */
  async getConversation(id: string, refresh = false): Promise<Conversation> {
    const cached = this.conversations.get(id);
    if (cached && !refresh) return cached;
    const c = await this.api.chat.getConversation(id);
    this.conversations.set(c.id, c);
    return c;
  }

  /**
   * Directory lookup by username (exact match preferred).
   * @param username handle
   * @returns the user, if found
   */
  async findUser(username: string): Promise<PublicUser | undefined> {
    const page = await this.api.user.searchUsers(username);
    return page.users.find((u) => u.username === username.toLowerCase()) ?? page.users[0];
  }

  /**
   * The local history of a conversation (oldest first).
   * @param conversationId conversation
   * @returns messages
   */
  history(conversationId: string): Promise<StoredMessage[]> {
    return this.requireSession().store.listMessages(conversationId);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends a text message to every device of every member and to my other devices.
   * @param conversationId conversation
   * @param text the text
   * @returns the stored message
   * @throws {UntrustedIdentityError} a member's identity changed: accept it first
   */
  async sendText(conversationId: string, text: string): Promise<StoredMessage> {
    return this.sendContent(conversationId, { kind: 'text', text });
  }

  /**
   * Encrypts a file with a fresh key, uploads the ciphertext, and sends pointer + key + digest
   * inside an E2EE message.
   * @param conversationId conversation
   * @param data file bytes
   * @param meta content type, file name, caption
   * @returns the stored message
   */
  async sendAttachment(
    conversationId: string,
    data: Uint8Array,
    meta: { contentType: string; fileName?: string; caption?: string },
  ): Promise<StoredMessage> {
    const enc = await encryptAttachment(data);
    const uploaded = await this.api.chat.uploadAttachment(conversationId, enc.ciphertext);
    const attachment: AttachmentPointer = {
      id: uploaded.id,
      key: enc.key,
      digest: enc.digest,
      size: enc.size,
      contentType: meta.contentType,
      ...(meta.fileName ? { fileName: meta.fileName } : {}),
    };
    return this.sendContent(conversationId, {
      kind: 'attachment',
      attachment,
      ...(meta.caption ? { text: meta.caption } : {}),
    });
  }

  /**
   * Downloads an attachment, checks its digest, and decrypts it.
   * @param pointer from the message
   * @returns the plaintext bytes
   * @throws {AttachmentIntegrityError} digest mismatch or bad ciphertext
   */
  async downloadAttachment(pointer: AttachmentPointer): Promise<Uint8Array> {
    const bytes = await this.api.chat.downloadAttachment(pointer.id);
    return decryptAttachment(bytes, pointer.key, pointer.digest);
  }

  /**
   * Sends an encrypted read receipt to the senders of these messages (and my other devices).
   * @param conversationId conversation
   * @param messageIds client message ids
   */
  async markRead(conversationId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const s = this.requireSession();
    for (const id of messageIds) {
      const m = await s.store.getMessage(id);
      if (m && m.direction === 'in' && m.status !== 'read') await s.store.putMessage({ ...m, status: 'read' });
    }
    await this.fanOut(conversationId, {
      v: 1,
      kind: 'receipt',
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      receipt: { type: 'read', messageIds },
    });
  }

  /**
   * Sends an encrypted "delivered" receipt for messages this device received.
   * @param conversationId conversation
   * @param messageIds client message ids
   */
  async markDelivered(conversationId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.fanOut(conversationId, {
      v: 1,
      kind: 'receipt',
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      receipt: { type: 'delivered', messageIds },
    });
  }

  /**
   * Tells the conversation I am typing (metadata through the socket, as the API defines).
   * @param conversationId conversation
   * @param on typing or not
   */
  async setTyping(conversationId: string, on: boolean): Promise<void> {
    await this.requireSocket().typing(conversationId, on);
  }

  /**
   * Diagnostics and adversarial tests: sends a text, passing the envelope list through `mutate`
   * just before it goes to the server (to replay, re-address or corrupt envelopes the way a
   * malicious server could).
   * @param conversationId conversation
   * @param text the text
   * @param mutate rewrites the envelopes
   * @returns the stored message
   */
  async sendTextWithEnvelopes(
    conversationId: string,
    text: string,
    mutate: (envelopes: OutgoingEnvelope[]) => OutgoingEnvelope[],
  ): Promise<StoredMessage> {
    return this.sendContent(conversationId, { kind: 'text', text }, mutate);
  }

  /** The Signal protocol layer of the logged-in account (diagnostics, tests, benchmarks). */
  get protocol(): SignalProtocol {
    return this.requireSession().protocol;
  }

  private async sendContent(
    conversationId: string,
    content: { kind: 'text' | 'attachment'; text?: string; attachment?: AttachmentPointer },
    mutate?: (envelopes: OutgoingEnvelope[]) => OutgoingEnvelope[],
  ): Promise<StoredMessage> {
    const s = this.requireSession();
    const plaintext: PlaintextMessage = {
      v: 1,
      kind: content.kind,
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.attachment ? { attachment: content.attachment } : {}),
    };
    const stored: StoredMessage = {
      id: plaintext.id,
      conversationId,
      senderUserId: s.user.id,
      senderDeviceId: this.cachedDeviceId ?? 0,
      direction: 'out',
      kind: content.kind,
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.attachment ? { attachment: content.attachment } : {}),
      sentAt: plaintext.sentAt,
      status: 'sending',
    };
    await s.store.putMessage(stored);
    try {
      const ack = await this.fanOut(conversationId, plaintext, mutate);
      const sent: StoredMessage = {
        ...stored,
        status: 'sent',
        serverMessageId: ack.messageId,
        serverTimestamp: ack.serverTimestamp,
      };
      await s.store.putMessage(sent);
      return sent;
    } catch (err) {
      await s.store.putMessage({ ...stored, status: 'failed' });
      throw err;
    }
  }

  /** Device lists per user that I should encrypt for (my own device excluded). */
  private async targetDevices(userIds: string[]): Promise<Array<{ userId: string; deviceId: number }>> {
    const s = this.requireSession();
    const me = s.user.id;
    const out: Array<{ userId: string; deviceId: number }> = [];
    for (const userId of userIds) {
      let devices = await s.protocol.sessionDevices(userId);
      if (userId === me) devices = devices.filter((d) => d !== this.cachedDeviceId);
      if (devices.length === 0 && userId !== me) {
        try {
          await this.ensureSessions(userId);
        } catch (err) {
          // A member who has no device with keys yet cannot receive; the server agrees
          // (only keyed devices are expected), so send to the others.
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
        devices = await s.protocol.sessionDevices(userId);
      }
      for (const deviceId of devices) out.push({ userId, deviceId });
    }
    return out;
  }

  /**
   * Builds sessions with those of a user's devices that have none yet (any device when
   * `devices` is omitted and there is no session at all). Concurrent sends (a message, its
   * typing and receipt messages) share the work: calls for one user run one at a time and each
   * re-checks, so a device gets one new session, and costs one one-time prekey, however many
   * sends need it. Existing sessions are never dropped here: one a concurrent send has just
   * built may carry its first message, and the peer answers on that session.
   */
  private async ensureSessions(userId: string, devices?: number[]): Promise<void> {
    const s = this.requireSession();
    await this.sessionBuilds.run(userId, async () => {
      const have = new Set(await s.protocol.sessionDevices(userId));
      if (devices ? devices.every((d) => have.has(d)) : have.size > 0) return;
      await this.fetchBundles(userId, devices?.filter((d) => !have.has(d)));
    });
  }

  /**
   * Fetches a user's bundles and builds sessions with their devices (all, or only `onlyDevices`).
   * Every device's bundle is verified by the protocol layer (signature, identity trust).
   */
  private async fetchBundles(userId: string, onlyDevices?: number[]): Promise<void> {
    const s = this.requireSession();
    const answer = await this.api.chat.keyBundle(userId);
    for (const device of answer.devices) {
      if (userId === s.user.id && device.deviceId === this.cachedDeviceId) continue;
      if (onlyDevices && !onlyDevices.includes(device.deviceId)) continue;
      await s.protocol.processBundle(userId, decodeBundle(answer.identityKey, device));
    }
  }

  /**
   * Encrypts one plaintext for every device of the conversation's members and my other devices
   * and emits `message:send`; on `stale_devices` it drops extra sessions, fetches bundles for
   * missing devices, and retries.
   */
  private async fanOut(
    conversationId: string,
    plaintext: PlaintextMessage,
    mutate?: (envelopes: OutgoingEnvelope[]) => OutgoingEnvelope[],
  ): Promise<{ messageId: string; serverTimestamp: string }> {
    const s = this.requireSession();
    const socket = this.requireSocket();
    let conversation = await this.getConversation(conversationId);
    const bytes = utf8(JSON.stringify(PlaintextMessage.parse(plaintext)));
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const members = [...new Set([...conversation.memberIds, s.user.id])];
      const targets = await this.targetDevices(members);
      const envelopes: OutgoingEnvelope[] = [];
      for (const t of targets) {
        let c: Awaited<ReturnType<SignalProtocol['encrypt']>>;
        try {
          c = await s.protocol.encrypt(t.userId, t.deviceId, bytes);
        } catch (err) {
          // Dropped since the targets were listed (a concurrent send learnt the device was
          // removed): leave it out; the server names it as missing if it is still expected.
          if (err instanceof ProtocolError && err.code === 'no_session') continue;
          throw err;
        }
        envelopes.push({ userId: t.userId, deviceId: t.deviceId, type: c.type, body: toBase64(c.body) });
      }
      try {
        const ack = await socket.sendMessage({
          conversationId,
          clientMessageId: plaintext.id,
          envelopes: mutate ? mutate(envelopes) : envelopes,
        });
        s.backup.schedule();
        return ack;
      } catch (err) {
        lastError = err;
        if (!(err instanceof SocketAckError) || err.code !== 'stale_devices' || !err.stale) throw err;
        // Membership may have changed too: refresh it. An extra device of someone who is still a
        // member was removed (drop its session); someone who left keeps their sessions (they
        // are valid for other conversations) and is simply not addressed any more.
        conversation = await this.getConversation(conversationId, true);
        const stillMembers = new Set([...conversation.memberIds, s.user.id]);
        for (const extra of err.stale.extra) {
          if (stillMembers.has(extra.userId)) await s.protocol.deleteSession(extra.userId, extra.deviceId);
        }
        const missingByUser = new Map<string, number[]>();
        for (const m of err.stale.missing) {
          if (m.userId === s.user.id && m.deviceId === this.cachedDeviceId) continue;
          missingByUser.set(m.userId, [...(missingByUser.get(m.userId) ?? []), m.deviceId]);
        }
        // A missing device is one this attempt did not address; a concurrent send may have built
        // its session meanwhile, which the next attempt then uses.
        for (const [userId, devices] of missingByUser) await this.ensureSessions(userId, devices);
        if (err.stale.extra.length === 0 && missingByUser.size === 0) throw err;
      }
    }
    throw lastError;
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Handles one `message:new` (also used by tests to inject envelopes). Envelopes are processed
   * one at a time, in arrival order, so a conversation's order is kept.
   * @param envelope the server event
   */
  receive(envelope: IncomingEnvelope): Promise<void> {
    return this.incoming.run('inbox', () => this.receiveNow(envelope));
  }

  private async receiveNow(env: IncomingEnvelope): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (this.seen.includes(env.messageId)) {
      await this.ackQuietly([env.messageId]);
      return;
    }
    let plainBytes: Uint8Array;
    try {
      plainBytes = await s.protocol.decrypt(env.senderUserId, env.senderDeviceId, env.type, fromBase64(env.body));
    } catch (err) {
      if (err instanceof UntrustedIdentityError) {
        // Keep it (unacknowledged, so the server keeps it too) until the user accepts the key.
        const list = this.pendingUntrusted.get(env.senderUserId) ?? [];
        if (!list.some((e) => e.messageId === env.messageId)) list.push(env);
        this.pendingUntrusted.set(env.senderUserId, list);
        this.emit('identityChanged', { userId: env.senderUserId });
        return;
      }
      const code = err instanceof DecryptError ? err.code : 'invalid_message';
      this.emit('decryptFailed', {
        messageId: env.messageId,
        senderUserId: env.senderUserId,
        senderDeviceId: env.senderDeviceId,
        code,
      });
      await this.markSeen(env.messageId);
      await this.ackQuietly([env.messageId]);
      return;
    }
    // Session state advanced: keep the backup current.
    s.backup.schedule();
    let plain: PlaintextMessage;
    try {
      plain = PlaintextMessage.parse(JSON.parse(fromUtf8(plainBytes)));
    } catch {
      this.emit('decryptFailed', { messageId: env.messageId, senderUserId: env.senderUserId, senderDeviceId: env.senderDeviceId, code: 'invalid_message' });
      await this.markSeen(env.messageId);
      await this.ackQuietly([env.messageId]);
      return;
    }
    // The conversation id inside the ciphertext must match the envelope's: the server cannot
    // move a message into another conversation.
    if (plain.conversationId !== env.conversationId) {
      this.emit('decryptFailed', { messageId: env.messageId, senderUserId: env.senderUserId, senderDeviceId: env.senderDeviceId, code: 'conversation_mismatch' });
      await this.markSeen(env.messageId);
      await this.ackQuietly([env.messageId]);
      return;
    }
    await this.handlePlaintext(env, plain);
    await this.markSeen(env.messageId);
    await this.ackQuietly([env.messageId]);
    if (env.type === 3) void this.setupDevice().catch((err: unknown) => this.emit('error', err));
  }

  private async handlePlaintext(env: IncomingEnvelope, plain: PlaintextMessage): Promise<void> {
    const s = this.requireSession();
    const mine = env.senderUserId === s.user.id;
    switch (plain.kind) {
      case 'text':
      case 'attachment': {
        if (await s.store.getMessage(plain.id)) return; // dedupe by client message id
        const stored: StoredMessage = {
          id: plain.id,
          conversationId: plain.conversationId,
          senderUserId: env.senderUserId,
          senderDeviceId: env.senderDeviceId,
          direction: mine ? 'out' : 'in',
          kind: plain.kind,
          ...(plain.text !== undefined ? { text: plain.text } : {}),
          ...(plain.attachment ? { attachment: plain.attachment } : {}),
          sentAt: plain.sentAt,
          serverTimestamp: env.serverTimestamp,
          serverMessageId: env.messageId,
          status: mine ? 'sent' : 'received',
        };
        await s.store.putMessage(stored);
        this.emit('message', stored);
        return;
      }
      case 'receipt': {
        if (!plain.receipt) return;
        const order = { sending: 0, failed: 0, sent: 1, received: 1, delivered: 2, read: 3 } as const;
        for (const id of plain.receipt.messageIds) {
          const m = await s.store.getMessage(id);
          if (!m || m.conversationId !== plain.conversationId) continue;
          if (mine && m.direction === 'in') {
            // I read it on another device (my own "delivered" receipts change nothing here).
            if (plain.receipt.type === 'read' && m.status !== 'read') await s.store.putMessage({ ...m, status: 'read' });
          } else if (m.direction === 'out' && order[plain.receipt.type] > order[m.status]) {
            await s.store.putMessage({ ...m, status: plain.receipt.type });
          }
        }
        this.emit('receipt', {
          conversationId: plain.conversationId,
          fromUserId: env.senderUserId,
          type: plain.receipt.type,
          messageIds: plain.receipt.messageIds,
        });
        return;
      }
      case 'typing': {
        this.emit('typing', { conversationId: plain.conversationId, userId: env.senderUserId, on: plain.typing?.on ?? false });
        return;
      }
    }
  }

  private async markSeen(id: string): Promise<void> {
    this.seen.push(id);
    if (this.seen.length > SEEN_LIMIT) this.seen = this.seen.slice(-SEEN_LIMIT);
    await this.session?.store.setMeta(META_SEEN, this.seen);
  }

  private async ackQuietly(ids: string[]): Promise<void> {
    try {
      await this.socket?.ack(ids);
    } catch (err) {
      this.emit('error', err);
    }
  }

  // ---------------------------------------------------------------- identities

  private onIdentityChange(change: IdentityChange): void {
    this.session?.backup.schedule();
    this.emit('identityChanged', { userId: change.userId });
  }

  /**
   * The safety number with a contact (60 digits and QR payload), from the keys I hold. Fetches
   * the contact's identity key first if I have never talked to them.
   * @param userId contact
   * @returns safety number
   */
  async safetyNumber(userId: string): Promise<SafetyNumber> {
    const s = this.requireSession();
    if (!(await s.store.getIdentity(userId))) await this.fetchBundles(userId);
    return s.protocol.safetyNumber(s.user.id, userId);
  }

  /**
   * @param userId contact
   * @returns trust state of the contact's identity key
   */
  async identityStatus(userId: string): Promise<'trusted' | 'verified' | 'untrusted' | 'unknown'> {
    return (await this.requireSession().store.getIdentity(userId))?.status ?? 'unknown';
  }

  /**
   * Accepts a contact's changed identity key: unblocks sending and processes messages that were
   * held back because of the change.
   * @param userId contact
   */
  async acceptIdentity(userId: string): Promise<void> {
    const s = this.requireSession();
    await s.protocol.acceptIdentity(userId);
    s.backup.schedule();
    const pending = this.pendingUntrusted.get(userId) ?? [];
    this.pendingUntrusted.delete(userId);
    for (const env of pending) await this.receive(env);
  }

  /**
   * Marks a contact's key verified after comparing safety numbers.
   * @param userId contact
   */
  async markVerified(userId: string): Promise<void> {
    await this.requireSession().protocol.markVerified(userId);
    this.requireSession().backup.schedule();
  }

  /** Uploads the key backup now (normally debounced). */
  async flushBackup(): Promise<void> {
    await this.requireSession().backup.flush();
  }

  /** @returns current tokens (bearer mode). */
  tokens(): Tokens | undefined {
    return this.api.getTokens();
  }
}
