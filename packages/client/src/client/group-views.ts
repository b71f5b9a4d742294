import type { PlaintextMessage, StoredMessage } from '../messages/message.schema.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { ApiError } from '../transport/api-error.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import type { EmitFn } from './client-types.js';
import {
  applyControl,
  GroupViewsState,
  mergeViewsState,
  roleIn,
  type GroupEvent,
  type GroupView,
} from './groups-state.js';
import type { SessionSlot } from './session.js';

/** Local store key of the {@link GroupViewsState}. */
export const META_GROUP_VIEWS = 'groupViews';

/** The `details` of an `unexpected_member` error: whom the server wanted the message to reach. */
export interface UnexpectedMemberDetails {
  conversationId: string;
  userIds: string[];
}

/**
 * This client's own view of every group (members, roles, E2E title) and the pinned other member
 * of every direct conversation. The sender encrypts only to the members of these views; the
 * server's member list is used for routing only (someone in it but not in my view fails the send
 * closed). Views change only through control messages whose sender may make the change in my
 * view ({@link applyControl}); every change is written to the local store and scheduled for the
 * key backup, so a new device of mine starts with my views.
 */
export class GroupViews {
  private state: GroupViewsState = { v: 1, migrated: true, views: {}, directs: {} };
  /** Whether this session must still adopt pre-existing groups from the server (first run). */
  private adoptionPending = false;
  private readonly lane = new KeyedSerialQueue();

  /** @param deps session and event emitter */
  constructor(private readonly deps: { session: SessionSlot; emit: EmitFn }) {}

  /**
   * Loads the views of a session: the local copy merged with the key backup's (newest view per
   * group). An account whose backup predates group views (and that has no local copy) adopts its
   * existing groups from the server once ({@link adoptLegacy}); a brand-new account never does.
   * @param store the session's local store
   * @param backup the `groups` section of the key backup, and whether a backup existed at all
   */
  async load(store: ProtocolStore, backup: { exists: boolean; groups?: unknown }): Promise<void> {
    const local = GroupViewsState.safeParse(await store.getMeta(META_GROUP_VIEWS));
    const remote = GroupViewsState.safeParse(backup.groups);
    const merged = mergeViewsState(local.success ? local.data : undefined, remote.success ? remote.data : undefined);
    this.state = merged ?? { v: 1, migrated: !backup.exists, views: {}, directs: {} };
    this.adoptionPending = !this.state.migrated;
    await store.setMeta(META_GROUP_VIEWS, this.state);
  }

  /** @returns the state for the key backup */
  snapshot(): GroupViewsState {
    return this.state;
  }

  /**
   * @param conversationId a group
   * @returns my view of it, if I have one
   */
  view(conversationId: string): GroupView | undefined {
    return this.state.views[conversationId];
  }

  /**
   * Whether a message in a conversation may come from this user, by my view: in a group, only its
   * members (and my own devices); in a pinned direct chat, only the two of us. Without a view or
   * pin (a group whose state is still on its way) nothing is decided here.
   * @param conversationId the envelope's (and plaintext's) conversation
   * @param me my user id
   * @param sender the envelope's sender, authenticated by the session
   * @returns false when my view says the sender is not in the conversation
   */
  mayPost(conversationId: string, me: string, sender: string): boolean {
    if (sender === me) return true;
    const view = this.view(conversationId);
    if (view) return roleIn(view, sender) !== undefined;
    const pinned = this.state.directs[conversationId];
    return pinned === undefined || pinned === sender;
  }

  /**
   * The disappearing timer of a conversation, from my end-to-end state: a group's view, or the
   * timer set in a direct chat.
   * @param conversationId the conversation
   * @returns seconds, or null when off
   */
  timerOf(conversationId: string): number | null {
    const view = this.view(conversationId);
    if (view) return view.timerS ?? null;
    return this.state.timers?.[conversationId]?.s ?? null;
  }

  /**
   * Sets a direct chat's disappearing timer unless a later setting is already stored (call inside
   * {@link exclusive}).
   * @param conversationId the direct chat
   * @param seconds the timer (null: off)
   * @param at when it was set (epoch ms: the server's timestamp of a received setting, my clock for mine)
   * @param options `force`: apply it whatever is stored (my own setting)
   * @returns false when a later setting was kept
   */
  async setDirectTimer(
    conversationId: string,
    seconds: number | null,
    at: number,
    options: { force?: boolean } = {},
  ): Promise<boolean> {
    const current = this.state.timers?.[conversationId];
    if (current && current.at > at && !options.force) return false;
    await this.save({ ...this.state, timers: { ...this.state.timers, [conversationId]: { s: seconds, at } } });
    return true;
  }

  /** @returns whether pre-existing groups still wait to be adopted (first run of this version) */
  get legacyAdoptionPending(): boolean {
    return this.adoptionPending;
  }

  /**
   * Runs `fn` with exclusive access to the views (control messages of the receiver and my own
   * operations change them one at a time).
   * @param fn the change
   * @returns its result
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lane.run('views', fn);
  }

  /**
   * Stores a view (or removes it) and schedules the key backup.
   * @param conversationId the group
   * @param view the new view, or undefined to forget it
   */
  async put(conversationId: string, view: GroupView | undefined): Promise<void> {
    const views = { ...this.state.views };
    if (view) views[conversationId] = view;
    else delete views[conversationId];
    await this.save({ ...this.state, views });
  }

  /**
   * Adopts, once per account, the groups that existed before this version from the server's
   * member lists (origin `legacy`; the documented residual risk), then never again.
   * @param conversations my conversations as the server lists them
   * @returns the views adopted
   */
  async adoptLegacy(conversations: readonly Conversation[]): Promise<string[]> {
    if (!this.adoptionPending) return [];
    const views = { ...this.state.views };
    const adopted: string[] = [];
    for (const c of conversations) {
      if (c.kind !== 'group' || views[c.id]) continue;
      views[c.id] = {
        members: c.members.map((m) => ({ userId: m.userId, role: m.role })),
        title: c.title,
        origin: 'legacy',
        updatedAt: Date.now(),
      };
      adopted.push(c.id);
    }
    this.adoptionPending = false;
    await this.save({ ...this.state, migrated: true, views });
    return adopted;
  }

  /**
   * Whom a message of this conversation is encrypted for (me included), from my own view: the
   * server's list only routes. Fails closed when the server lists someone no member added.
   * @param conversation the conversation as the server lists it now
   * @param me my user id
   * @param to when given (control messages), the members to address instead of my view's
   * @returns user ids to encrypt for
   * @throws {ApiError} `unexpected_member` (details {@link UnexpectedMemberDetails}),
   *   `group_state_pending` (no view yet), `not_member` (I left or was removed)
   */
  async audience(conversation: Conversation, me: string, to?: readonly string[]): Promise<string[]> {
    const listed = new Set(conversation.memberIds);
    const outside = (allowed: Set<string>) => [...listed].filter((u) => !allowed.has(u));
    const view = this.view(conversation.id);
    const pinned = this.state.directs[conversation.id];
    // Once a group (or direct chat) to me, always one: the server cannot change a chat's kind.
    const kind = view ? 'group' : pinned ? 'direct' : conversation.kind;
    if (kind === 'self') {
      const extra = outside(new Set([me]));
      if (extra.length > 0) throw unexpected(conversation.id, extra);
      return [me];
    }
    if (kind === 'direct') {
      const others = [...listed].filter((u) => u !== me);
      const peer = pinned ?? (others.length === 1 ? others[0] : undefined);
      if (!peer || listed.size !== 2 || !listed.has(me) || others[0] !== peer) {
        throw unexpected(conversation.id, others.filter((u) => u !== pinned));
      }
      if (!pinned) await this.save({ ...this.state, directs: { ...this.state.directs, [conversation.id]: peer } });
      return [me, peer];
    }
    if (!view) throw new ApiError(0, 'group_state_pending', "waiting for the group's state from a member");
    if (roleIn(view, me) === undefined && !to) throw new ApiError(403, 'not_member', 'I am no longer a member of this group');
    const members = new Set(to ?? view.members.map((m) => m.userId));
    const extra = outside(members);
    if (extra.length > 0) throw unexpected(conversation.id, extra);
    // A member of my view whom the server no longer lists is simply not addressed (routing).
    return [...new Set([me, ...[...members].filter((u) => listed.has(u))])];
  }

  /**
   * First sight of a direct conversation with exactly two members, me and one other: pins the
   * other member (a later list naming someone else, or more people, fails sends closed).
   * @param conversation the conversation as the server lists it
   */
  async sight(conversation: Conversation): Promise<void> {
    const me = this.deps.session.current?.user.id;
    const listed = conversation.memberIds;
    if (!me || conversation.kind !== 'direct' || listed.length !== 2 || !listed.includes(me)) return;
    if (this.state.directs[conversation.id] || this.state.views[conversation.id]) return;
    const peer = listed.find((u) => u !== me);
    if (peer) await this.save({ ...this.state, directs: { ...this.state.directs, [conversation.id]: peer } });
  }

  /**
   * Handles a received control message (kind `group`): applies it if its sender may make the
   * change in my view, stores the change as an event in the chat's history and emits it as a
   * `message`; a refused change stays out of history and is reported as `groupChangeRefused`.
   * @param env sender and server fields of the envelope
   * @param plain the decrypted plaintext
   */
  async receive(
    env: { senderUserId: string; senderDeviceId: number; serverTimestamp: string; messageId: string },
    plain: PlaintextMessage,
  ): Promise<void> {
    const s = this.deps.session.require();
    const control = plain.group;
    if (!control) return;
    await this.exclusive(async () => {
      if (await s.store.getMessage(plain.id)) return; // applied already (dedupe by client id)
      const result = applyControl(this.view(plain.conversationId), s.user.id, env.senderUserId, control);
      if (!result.ok) {
        // My own other device's create for a group this device already knows: nothing to do.
        if (env.senderUserId === s.user.id && result.reason === 'group_exists') return;
        this.deps.emit('groupChangeRefused', { conversationId: plain.conversationId, fromUserId: env.senderUserId, op: control.op, reason: result.reason });
        return;
      }
      await this.put(plain.conversationId, result.view);
      await this.record({
        id: plain.id,
        conversationId: plain.conversationId,
        senderUserId: env.senderUserId,
        senderDeviceId: env.senderDeviceId,
        direction: env.senderUserId === s.user.id ? 'out' : 'in',
        sentAt: plain.sentAt,
        serverTimestamp: env.serverTimestamp,
        serverMessageId: env.messageId,
        status: env.senderUserId === s.user.id ? 'sent' : 'received',
      }, result.event);
    });
  }

  /**
   * Stores a membership change in the chat's history and emits it as a `message`.
   * @param base the history entry's fields
   * @param event the change
   * @returns the entry
   */
  async record(base: Omit<StoredMessage, 'kind' | 'event'>, event: GroupEvent): Promise<StoredMessage> {
    const s = this.deps.session.require();
    const entry: StoredMessage = {
      ...base,
      kind: 'event',
      event: {
        type: event.type,
        actorUserId: event.actorUserId,
        ...(event.userIds ? { userIds: event.userIds } : {}),
        ...(event.title !== undefined ? { title: event.title } : {}),
        ...(event.role ? { role: event.role } : {}),
        ...(event.timerS !== undefined ? { timerS: event.timerS } : {}),
      },
    };
    await s.store.putMessage(entry);
    this.deps.emit('message', entry);
    return entry;
  }

  /** Forgets the loaded state (log out). */
  clear(): void {
    this.state = { v: 1, migrated: true, views: {}, directs: {} };
    this.adoptionPending = false;
  }

  private async save(next: GroupViewsState): Promise<void> {
    this.state = next;
    const s = this.deps.session.current;
    if (!s) return;
    await s.store.setMeta(META_GROUP_VIEWS, next);
    s.backup.schedule();
  }
}

function unexpected(conversationId: string, userIds: string[]): ApiError {
  const details: UnexpectedMemberDetails = { conversationId, userIds };
  return new ApiError(0, 'unexpected_member', 'the server lists people no member added; nothing was sent to them', details);
}

