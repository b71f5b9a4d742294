import { FORMAT_VERSION, type GroupControl, type StoredMessage } from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { ApiError } from '../transport/api-error.js';
import type { ApiClient } from '../transport/api-client.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import { SocketAckError } from '../transport/socket-client.js';
import type { EmitFn } from './client-types.js';
import type { Conversations } from './conversations.js';
import type { DeviceKeys } from './device-keys.js';
import type { GroupViews } from './group-views.js';
import { applyControl, canManage, roleIn, stateOf, type GroupView } from './groups-state.js';
import type { MessageSender } from './message-sender.js';
import type { SessionSlot } from './session.js';

/** What {@link Groups} needs. */
export interface GroupsDeps {
  api: ApiClient;
  session: SessionSlot;
  conversations: Conversations;
  deviceKeys: DeviceKeys;
  views: GroupViews;
  sender: MessageSender;
  emit: EmitFn;
}

/** A group as this client sees it: the server's conversation with my view's members and title. */
export interface GroupInfo {
  id: string;
  /** The E2E title from my view (null when none). */
  title: string | null;
  /** Members and roles from my view. */
  members: { userId: string; role: 'owner' | 'admin' | 'member' }[];
  /** How I got the view; `pending` while waiting for the group's state from a member. */
  origin: 'member' | 'legacy' | 'pending';
}

/**
 * Group operations, end to end: every change of membership, roles or title is a control
 * message (kind `group`) encrypted to the members of my view, applied by each of their clients
 * only if I may make it in their view. The server is told only what it needs to route messages
 * (members and roles, never the title).
 */
export class Groups {
  /** @param deps collaborators */
  constructor(private readonly deps: GroupsDeps) {}

  /**
   * Creates a group: the server learns the members (no title), my view starts with me as owner,
   * and a `create` control with the whole state goes to everyone.
   * @param input title (end to end only) and the other members
   * @returns the conversation
   */
  async create(input: { title?: string | null | undefined; memberIds: string[] }): Promise<Conversation> {
    const { api, views, conversations } = this.deps;
    const me = this.me();
    const others = [...new Set(input.memberIds)].filter((u) => u !== me);
    const c = await api.chat.createConversation({ kind: 'group', memberIds: others }, await this.deps.deviceKeys.proof());
    conversations.remember(c);
    const view: GroupView = {
      members: [{ userId: me, role: 'owner' }, ...others.map((userId) => ({ userId, role: 'member' as const }))],
      title: input.title?.trim() ? input.title.trim() : null,
      origin: 'member',
      updatedAt: Date.now(),
    };
    await views.exclusive(() => views.put(c.id, view));
    await this.send(c.id, { op: 'create', state: stateOf(view) }, { type: 'created', title: view.title });
    return c;
  }

  /**
   * Adds members: the server first (routing), then an `add` control with the state after the
   * change to every member of the new view (the new members start from it).
   * @param conversationId the group
   * @param userIds who to add
   */
  async add(conversationId: string, userIds: string[]): Promise<void> {
    const view = this.mine(conversationId, 'add');
    const fresh = [...new Set(userIds)].filter((u) => roleIn(view, u) === undefined);
    if (fresh.length === 0) return;
    const c = await this.deps.api.chat.addMembers(conversationId, fresh, await this.deps.deviceKeys.proof());
    this.deps.conversations.remember(c);
    await this.change(conversationId, { op: 'add', userIds: fresh }, (next) => ({ op: 'add', userIds: fresh, state: stateOf(next) }));
  }

  /**
   * Removes a member: the `remove` control goes to my view (the removed member included, so
   * their client knows), then the server stops routing to them.
   * @param conversationId the group
   * @param userId who to remove
   */
  async remove(conversationId: string, userId: string): Promise<void> {
    const view = this.mine(conversationId, 'remove');
    const to = view.members.map((m) => m.userId);
    await this.change(conversationId, { op: 'remove', userIds: [userId] }, undefined, to);
    await this.deps.api.chat.removeMember(conversationId, userId);
    this.deps.conversations.invalidate(conversationId);
  }

  /**
   * Leaves a group: the `leave` control to my view, then the server.
   * @param conversationId the group
   */
  async leave(conversationId: string): Promise<void> {
    const view = this.mine(conversationId, 'leave');
    await this.change(conversationId, { op: 'leave' }, undefined, view.members.map((m) => m.userId));
    await this.deps.api.chat.removeMember(conversationId, this.me());
    this.deps.conversations.invalidate(conversationId);
  }

  /**
   * Renames a group, end to end only (the server never sees the title).
   * @param conversationId the group
   * @param title the new title (empty clears it)
   */
  async rename(conversationId: string, title: string | null): Promise<void> {
    this.mine(conversationId, 'rename');
    const t = title?.trim() ? title.trim() : null;
    await this.change(conversationId, { op: 'rename', title: t });
  }

  /**
   * Changes a member's role: on the server (it authorises member changes) and in every view.
   * @param conversationId the group
   * @param userId the member
   * @param role the new role
   */
  async setRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    this.mine(conversationId, 'role');
    this.deps.conversations.remember(await this.deps.api.chat.setMemberRole(conversationId, userId, role));
    await this.change(conversationId, { op: 'role', userIds: [userId], role });
  }

  /**
   * A group as I see it.
   * @param conversationId the group
   * @returns my view of it (`origin: 'pending'` with no members while I wait for its state)
   */
  info(conversationId: string): GroupInfo {
    const view = this.deps.views.view(conversationId);
    if (!view) return { id: conversationId, title: null, members: [], origin: 'pending' };
    return { id: conversationId, title: view.title, members: view.members.map((m) => ({ ...m })), origin: view.origin };
  }

  /**
   * First run of this version on an account: adopts existing groups from the server's lists
   * (origin `legacy`), then moves each legacy title the server still holds into the group's
   * end-to-end state (a `rename` control, if I may rename) and clears it on the server.
   * @param connected whether control messages can be sent now
   */
  async migrateLegacy(connected: boolean): Promise<void> {
    const { views, conversations, api } = this.deps;
    const list = await conversations.list();
    if (views.legacyAdoptionPending) await views.exclusive(() => views.adoptLegacy(list));
    if (!connected) return;
    for (const c of list) {
      const view = views.view(c.id);
      if (c.kind !== 'group' || !c.title || view?.origin !== 'legacy') continue;
      if (canManage(roleIn(view, this.me()))) {
        // The rename carries the title to every member end to end, then the server forgets it.
        await this.change(c.id, { op: 'rename', title: c.title });
        await api.chat.clearTitle(c.id);
        conversations.invalidate(c.id);
      }
    }
  }

  /**
   * Diagnostics and adversarial tests: sends a control message as is, to the members of my view,
   * without checking or applying it here (what a malicious member's client could send).
   * @param conversationId the group
   * @param control any control message
   */
  async sendRawControl(conversationId: string, control: GroupControl): Promise<void> {
    const to = this.deps.views.view(conversationId)?.members.map((m) => m.userId);
    await this.deps.sender.fanOut(
      conversationId,
      { v: FORMAT_VERSION, kind: 'group', id: randomId(), conversationId, sentAt: Date.now(), group: control },
      undefined,
      undefined,
      to,
    );
  }

  private me(): string {
    return this.deps.session.require().user.id;
  }

  /** My view of a group, or a clear error for an operation it does not allow. */
  private mine(conversationId: string, op: GroupControl['op']): GroupView {
    const view = this.deps.views.view(conversationId);
    if (!view) throw new ApiError(0, 'group_state_pending', "waiting for the group's state from a member");
    const role = roleIn(view, this.me());
    if (!role) throw new ApiError(403, 'not_member', 'I am not a member of this group');
    if ((op === 'add' || op === 'rename') && !canManage(role)) throw new ApiError(403, 'forbidden', 'only owners and admins can do this');
    if (op === 'role' && role !== 'owner') throw new ApiError(403, 'forbidden', 'only the owner can change roles');
    return view;
  }

  /**
   * Applies a change to my own view by the same rules as everyone's, stores its event, and
   * sends the control message.
   * @param conversationId the group
   * @param control the change
   * @param wire the control as sent, given the view after the change (default: `control`)
   * @param to whom to address (default: the view after the change)
   */
  private async change(
    conversationId: string,
    control: GroupControl,
    wire?: (next: GroupView) => GroupControl,
    to?: string[],
  ): Promise<void> {
    const { views } = this.deps;
    const { next, event } = await views.exclusive(async () => {
      const result = applyControl(views.view(conversationId), this.me(), this.me(), control);
      if (!result.ok) throw new ApiError(403, 'forbidden', `this group change is not allowed (${result.reason})`);
      await views.put(conversationId, result.view);
      return { next: result.view, event: result.event };
    });
    await this.send(conversationId, wire ? wire(next) : control, event, to);
  }

  /** Records the event in my history, then sends the control (not queued: the caller sees failures). */
  private async send(
    conversationId: string,
    control: GroupControl,
    event: Omit<Parameters<GroupViews['record']>[1], 'actorUserId'>,
    to?: string[],
  ): Promise<void> {
    const { views, sender, deviceKeys } = this.deps;
    const me = this.me();
    const id = randomId();
    const sentAt = Date.now();
    await views.record(
      { id, conversationId, senderUserId: me, senderDeviceId: deviceKeys.cachedId ?? 0, direction: 'out', sentAt, status: 'sending' },
      { ...event, actorUserId: me },
    );
    const s = this.deps.session.require();
    const update = async (patch: Partial<StoredMessage>): Promise<void> => {
      const stored = await s.store.getMessage(id);
      if (!stored) return;
      const next = { ...stored, ...patch };
      await s.store.putMessage(next);
      this.deps.emit('messageUpdated', next);
    };
    try {
      const ack = await sender.fanOut(conversationId, { v: FORMAT_VERSION, kind: 'group', id, conversationId, sentAt, group: control }, undefined, undefined, to);
      await update({ status: 'sent', serverMessageId: ack.messageId, serverTimestamp: ack.serverTimestamp });
    } catch (err) {
      const code = err instanceof ApiError || err instanceof SocketAckError ? err.code : 'send_failed';
      await update({ status: 'failed', failure: { code } });
      throw err;
    }
  }
}
