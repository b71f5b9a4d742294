import { groupPermissions, type Conversation, type GroupInfo, type StoredMessage } from '@cipherchat/client';
import type { Me, PublicUser } from '@cipherchat/contracts';
import type { ConversationView, MessageView, MeView, UserView } from './chat-api.js';
import { describeError } from './describe-error.js';
import { changeFields } from './message-actions.js';

// How the SDK's records become the UI's views (sdk-adapter.ts is the only caller).

/** A short, non-identifying label for this browser in the device list. */
export function deviceLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chromium'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'unknown OS';
  return `${browser} on ${os}`;
}

/** Maps the user-service `Me` to the UI's view. */
export function toMe(me: Me): MeView {
  return {
    id: me.id,
    username: me.username,
    displayName: me.displayName,
    email: me.email,
    emailVerified: me.emailVerified,
  };
}

/** Maps a directory entry to the UI's view. */
export function toUser(u: PublicUser): UserView {
  return { id: u.id, username: u.username, displayName: u.displayName };
}

/**
 * Maps an SDK conversation to the UI's view. A group's title, members and roles come from my
 * own view of it (`group`), never from the server's list.
 * @param c the conversation as the server lists it
 * @param group my view of the group (groups only)
 * @param me my user id (a group's permissions are mine)
 * @returns the view
 */
export function toConversation(c: Conversation, group?: GroupInfo, me?: string): ConversationView {
  if (c.kind === 'group' && group) {
    const may = groupPermissions(group.members, me ?? '');
    const ids = group.members.map((m) => m.userId);
    return {
      id: c.id,
      kind: c.kind,
      title: group.title,
      members: group.members.map((m) => ({ userId: m.userId, role: m.role })),
      createdAt: c.createdAt,
      ...(group.origin === 'pending' ? { pending: true } : {}),
      permissions: {
        rename: may.rename,
        add: may.add,
        leave: may.leave,
        remove: ids.filter((id) => may.remove(id)),
        setRole: ids.filter((id) => may.setRole(id)),
      },
      ...(c.myState === 'request' ? { myState: 'request' as const } : {}),
    };
  }
  return {
    id: c.id,
    kind: c.kind,
    title: c.kind === 'group' ? null : c.title,
    members: c.members.map((m) => ({ userId: m.userId, role: m.role })),
    createdAt: c.createdAt,
    ...(c.myState === 'request' ? { myState: 'request' as const } : {}),
  };
}

/** The UI's view of a stored message; a failed send carries its reason, in words. */
export function toView(m: StoredMessage): MessageView {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderUserId: m.senderUserId,
    direction: m.direction,
    kind: m.kind,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.kind === 'unsupported'
      ? { newer: { whole: true, ...(m.unsupported?.fallback ? { fallback: m.unsupported.fallback } : {}) } }
      : m.unknownFields?.length
        ? { newer: { whole: false } }
        : {}),
    ...(m.replyTo ? { replyTo: { ...m.replyTo } } : {}),
    ...(m.mentions?.length ? { mentions: [...m.mentions] } : {}),
    ...(m.event
      ? {
          event: {
            type: m.event.type,
            actorUserId: m.event.actorUserId,
            ...(m.event.userIds ? { userIds: m.event.userIds } : {}),
            ...(m.event.title !== undefined ? { title: m.event.title } : {}),
            ...(m.event.role ? { role: m.event.role } : {}),
            ...(m.event.timerS !== undefined ? { timerS: m.event.timerS } : {}),
          },
        }
      : {}),
    ...(m.attachment
      ? {
          attachment: {
            id: m.attachment.id,
            contentType: m.attachment.contentType,
            size: m.attachment.size,
            ...(m.attachment.fileName ? { fileName: m.attachment.fileName } : {}),
            ...(m.attachment.thumbnail
              ? {
                  thumbnail: {
                    url: `data:${m.attachment.thumbnail.contentType};base64,${m.attachment.thumbnail.data}`,
                    width: m.attachment.thumbnail.width,
                    height: m.attachment.thumbnail.height,
                  },
                }
              : {}),
            ...(m.attachment.voice ? { voice: m.attachment.voice } : {}),
          },
        }
      : {}),
    ...changeFields(m),
    sentAt: m.sentAt,
    status: m.status,
    ...(m.readBy ? { readBy: m.readBy } : {}),
    ...(m.deliveredTo ? { deliveredTo: m.deliveredTo } : {}),
    ...(m.failure ? { error: describeError(m.failure) } : {}),
  };
}
