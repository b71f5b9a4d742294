import type { StoredMessage } from '../messages/message.schema.js';
import { ApiClient } from '../transport/api-client.js';
import { AttachmentTransfer, DEFAULT_MEDIA_CACHE_BYTES } from './attachment-transfer.js';
import { Avatars } from './avatars.js';
import { offlineCache } from './offline-cache.js';
import { ApiError } from '../transport/api-error.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';
import { Account } from './account.js';
import { AccountSessions } from './account-session.js';
import type { ChatClientEvents, ChatClientOptions, EmitFn } from './client-types.js';
import { ContactSessions } from './contact-sessions.js';
import { Conversations } from './conversations.js';
import { DeviceKeys } from './device-keys.js';
import { Disappearing } from './disappearing.js';
import { GroupViews } from './group-views.js';
import { HistoryPages } from './history.js';
import { Groups } from './groups.js';
import { Identities } from './identities.js';
import { MessageActions } from './message-actions.js';
import { MessageReceiver } from './message-receiver.js';
import { MessageSender } from './message-sender.js';
import { OutgoingQueue } from './outgoing-queue.js';
import { PresenceMap } from './presence-map.js';
import { OwnDevices } from './own-devices.js';
import { Realtime } from './realtime.js';
import { Receipts } from './receipts.js';
import { Retries } from './retries.js';
import { retryGate } from './retry-gate.js';
import { Safety } from './safety.js';
import { MessageSearch } from './search.js';
import { SessionSlot } from './session.js';

/** The parts behind the `ChatClient` facade, each given exactly the others it uses. */
export interface ClientParts {
  api: ApiClient;
  attachments: AttachmentTransfer;
  session: SessionSlot;
  deviceKeys: DeviceKeys;
  conversations: Conversations;
  realtime: Realtime;
  receiver: MessageReceiver;
  sender: MessageSender;
  receipts: Receipts;
  queue: OutgoingQueue;
  identities: Identities;
  sessions: AccountSessions;
  account: Account;
  ownDevices: OwnDevices;
  views: GroupViews;
  groups: Groups;
  safety: Safety;
  actions: MessageActions;
  disappearing: Disappearing;
  history: HistoryPages;
  avatars: Avatars;
  search: MessageSearch;
  retries: Retries;
}

/**
 * The client's composition root: builds every part with its explicit dependencies.
 * @param options the client's options
 * @param emit the facade's event emitter
 * @param receive where the socket's envelopes go (the facade's `receive`, so tests can observe it)
 * @returns the parts
 */
export function buildClientParts(
  options: ChatClientOptions,
  emit: EmitFn,
  receive: (envelope: IncomingEnvelope) => Promise<void>,
): ClientParts {
  const session = new SessionSlot();
  const api = new ApiClient(options);
  const deviceKeys = new DeviceKeys(api, session, options.deviceName ?? 'cipherchat client');
  const conversations = new Conversations(api, () => deviceKeys.proof());
  const contacts = new ContactSessions(api, session, deviceKeys);
  const safety = new Safety({ api, session, conversations, proof: () => deviceKeys.proof() });
  // The socket reaches the queue only after connect(), when it exists.
  const late: { queue?: OutgoingQueue; receipts?: Receipts; ownDevices?: OwnDevices; actions?: MessageActions; disappearing?: Disappearing; avatars?: Avatars; retries?: Retries } = {};
  // Disappearing messages are stamped where they are stored (received, read); built below.
  const expiry = {
    onRead: (m: StoredMessage) => late.disappearing?.onRead(m) ?? m,
    onSent: (m: StoredMessage) => late.disappearing?.onSent(m) ?? m,
    track: (m: StoredMessage) => late.disappearing?.track(m) ?? Promise.resolve(),
  };
  const realtime = new Realtime({
    api,
    deviceKeys,
    emit,
    url: options.socketUrl ?? options.baseUrl ?? '',
    path: options.socketPath,
    onEnvelope: (e) => void receive(e),
    onConversationUpdated: (id) => conversations.invalidate(id),
    onOnline: () => {
      // Privacy and blocks may have changed on another device while this one was away.
      void safety.load().catch((err: unknown) => emit('error', err));
      void late.queue?.kick().catch((err: unknown) => emit('error', err));
      late.receipts?.onOnline();
      void late.ownDevices?.announce().catch((err: unknown) => emit('error', err));
      void late.actions?.flushBlobDeletes().catch((err: unknown) => emit('error', err));
      void late.retries?.tick().catch((err: unknown) => emit('error', err));
    },
    onPresence: (p) => late.receipts?.onPresence(p),
    onPrivacyChanged: (settings) => {
      safety.apply(settings);
      emit('privacyChanged', { ...settings });
    },
    onDeviceGone: () => void late.ownDevices?.relink().catch((err: unknown) => emit('error', err)),
  });
  const views = new GroupViews({
    session,
    emit: (event, ...args) => {
      emit(event, ...args);
      // Someone joined a group: my picture goes to them too (avatars.ts).
      const [m] = args as [StoredMessage];
      if (event === 'message' && m.kind === 'event' && m.event?.type === 'added')
        void late.avatars?.reshare(m.conversationId).catch((err: unknown) => emit('error', err));
    },
  });
  conversations.onSeen = (c) => void views.sight(c).catch((err: unknown) => emit('error', err));
  const receiver = new MessageReceiver({
    session,
    realtime,
    deviceKeys,
    emit,
    onDevice: (env, plain) => late.ownDevices?.onAnnouncement(env, plain) ?? Promise.resolve(),
    onGroupControl: (env, plain) => views.receive(env, plain),
    onTimer: (env, plain) => late.disappearing?.receive(env, plain) ?? Promise.resolve(),
    onAvatar: (env, plain) => late.avatars?.receive(env, plain) ?? Promise.resolve(),
    expiry,
    mayPost: (conversationId, sender) => views.mayPost(conversationId, session.require().user.id, sender),
    onAction: (env, plain) => late.actions?.receive(env, plain) ?? Promise.resolve(),
    arrived: (m) => late.actions?.arrived(m) ?? Promise.resolve(m),
    onDecryptFailed: (env, code) => late.retries?.onDecryptFailed(env, code) ?? Promise.resolve(),
    onRetry: (env, plain, deliver) => late.retries?.receive(env, plain, deliver) ?? Promise.resolve(),
  });
  const presence = new PresenceMap(realtime);
  const sender = new MessageSender({ session, realtime, conversations, contacts, deviceKeys, presence, groups: views, onSent: (x) => late.retries?.recordSent(x) });
  const retries = (late.retries = new Retries({
    session,
    sender,
    contacts,
    deviceKeys,
    gate: (id, sender) => retryGate({ safety, conversations, views, me: () => session.require().user.id }, id, sender),
    connected: () => realtime.connected,
    emit,
    ...(options.now ? { now: options.now } : {}),
    ...(options.retryGiveUpMs !== undefined ? { giveUpMs: options.retryGiveUpMs } : {}),
  }));
  const receipts = (late.receipts = new Receipts({ session, realtime, conversations, sender, presence, safety, emit, expiry }));
  const groups = new Groups({ api, session, conversations, deviceKeys, views, sender, emit });
  const queue = (late.queue = new OutgoingQueue({
    session,
    sender,
    // A message is written for the members of my view (the server's list only routes).
    // Who a message may be encrypted for, fixed when it is written. Fails closed: without the
    // conversation (offline, or a server that fails the lookup) the last copy this device kept is
    // used, else nobody, so no one who joins while it waits can read it (`membership_changed`).
    // A group whose end-to-end state has not arrived yet has no audience to fix (undefined): the
    // sender checks that state itself when it encrypts.
    membersOf: async (id) => {
      const s = session.require();
      const c = await conversations
        .get(id)
        .catch(async () => (await offlineCache.conversations(s.store)).find((x) => x.id === id));
      if (!c) return [];
      return views
        .audience(c, s.user.id)
        .catch((err: unknown) =>
          err instanceof ApiError && err.code === 'group_state_pending' ? undefined : [],
        );
    },
    isOnline: () => realtime.connected,
    emit: (event, ...args) => {
      // A message held back by a foreign device is re-sent once that device is removed.
      if (event === 'sendFailed') {
        const [f] = args as Parameters<ChatClientEvents['sendFailed']>;
        void late.ownDevices?.onSendFailed(f.message, f.code).catch((err: unknown) => emit('error', err));
      }
      emit(event, ...args);
    },
    policy: options.sendRetry,
  }));
  const ownDevices = (late.ownDevices = new OwnDevices({
    api,
    session,
    deviceKeys,
    realtime,
    sender,
    contacts,
    retry: (id, opts) => queue.retry(id, opts),
    emit,
  }));
  const actions = (late.actions = new MessageActions({ api, session, queue, emit }));
  contacts.onForeignDevices = (ids) => ownDevices.onForeignDevices(ids);
  const disappearing = (late.disappearing = new Disappearing({
    api,
    session,
    conversations,
    deviceKeys,
    views,
    groups,
    queue,
    emit,
    now: options.now ?? (() => Date.now()),
    sweepMaxMs: options.disappearingSweepMs,
  }));
  const avatars = (late.avatars = new Avatars({ api, session, conversations, safety, queue, emit }));
  deviceKeys.onLinked = () => void ownDevices.announce().catch((err: unknown) => emit('error', err));
  const identities = new Identities({ session, contacts, receiver, emit });
  const sessions = new AccountSessions({
    api,
    session,
    deviceKeys,
    emit,
    openStore: options.openStore,
    backupDebounceMs: options.backupDebounceMs ?? 1000,
    onIdentityChange: (c) => identities.onIdentityChange(c),
    onStarted: async (store, backup) => {
      await receiver.load(store);
      await retries.load(store);
      await views.load(store, backup);
      await disappearing.start();
      // The upgrade path: kept messages this version now reads are handled again.
      await receiver.rereadKept().catch((err: unknown) => emit('error', err));
    },
  });
  const account = new Account({
    api,
    session,
    sessions,
    opened: async (connect) => {
      await safety.load().catch((err: unknown) => emit('error', err));
      if (connect) await realtime.connect();
      await groups.migrateLegacy(realtime.connected).catch((err: unknown) => emit('error', err));
      await queue.resume();
    },
  });
  const attachments = new AttachmentTransfer(api, session, options.mediaCacheBytes ?? DEFAULT_MEDIA_CACHE_BYTES);
  const history = new HistoryPages({ session, receipts });
  return { api, attachments, session, deviceKeys, conversations, realtime, receiver, sender, receipts, queue, identities, sessions, account, ownDevices, views, groups, safety, actions, disappearing, history, avatars, search: new MessageSearch(session), retries };
}
