import { UntrustedIdentityError, type ChatClient, type OwnDevice } from '@cipherchat/client';
import type { ChatEvent, DeviceAlerts } from './chat-api.js';
import { toView } from './sdk-views.js';

/**
 * Device alerts (foreign devices on my account, "this browser must log in again"), kept here
 * too so that a screen opened later still shows them.
 */
export class DeviceAlertState {
  /** Foreign devices: device id → when the server says it appeared. */
  readonly foreign = new Map<number, string>();
  /** This browser was removed and the server wants a password login to link it again. */
  needsLogin = false;

  /**
   * Brings the foreign set in line with my device list (a device removed elsewhere goes).
   * @param devices my devices as the SDK lists them (empty when the list failed)
   */
  check(devices: readonly OwnDevice[]): void {
    for (const d of devices) if (d.status === 'foreign') this.foreign.set(d.deviceId, d.createdAt);
    const listed = new Set(devices.map((d) => d.deviceId));
    for (const id of this.foreign.keys())
      if (devices.length > 0 && !listed.has(id)) this.foreign.delete(id);
  }

  /** @returns the alerts to show */
  snapshot(): DeviceAlerts {
    return {
      foreign: [...this.foreign].map(([deviceId, createdAt]) => ({ deviceId, createdAt })),
      needsLogin: this.needsLogin,
    };
  }
}

/**
 * Turns the SDK's events into the UI's {@link ChatEvent}s (and logs, without content, what
 * only matters to a developer).
 * @param client the SDK client
 * @param emit the UI's event sink
 * @param alerts where device alerts are kept
 */
export function forwardClientEvents(
  client: ChatClient,
  emit: (e: ChatEvent) => void,
  alerts: DeviceAlertState,
): void {
  client.on('message', (m) => {
    emit({ type: 'message', message: toView(m), arrival: true });
    // A membership change: my view of the group changed (members, roles or title).
    if (m.kind === 'event') emit({ type: 'conversationsChanged' });
    // This device has it: tell the sender (an encrypted "delivered" receipt).
    if (m.direction === 'in')
      void client.markDelivered(m.conversationId, [m.id]).catch(() => undefined);
  });
  client.on('receipt', (r) => {
    // Someone else's receipt: the SDK reports my messages it moved as `messageUpdated` (status
    // and who read them); it must not touch my received copies (in a group every member gets
    // every member's receipts, and my copy is read only when I read it). A receipt of my own
    // other device: I read these there.
    if (r.fromUserId !== client.user.id) return;
    emit({
      type: 'status',
      conversationId: r.conversationId,
      messageIds: r.messageIds,
      status: r.type,
    });
  });
  client.on('typing', (t) =>
    emit({ type: 'typing', conversationId: t.conversationId, userId: t.userId, on: t.on }),
  );
  client.on('presence', (p) =>
    emit({
      type: 'presence',
      userId: p.userId,
      online: p.online,
      ...(p.lastSeenAt ? { lastSeenAt: p.lastSeenAt } : {}),
    }),
  );
  client.on('identityChanged', (c) => emit({ type: 'identityChanged', userId: c.userId }));
  client.on('privacyChanged', (settings) => emit({ type: 'privacyChanged', settings }));
  client.on('foreignDevice', (d) => {
    alerts.foreign.set(d.deviceId, d.createdAt);
    emit({ type: 'foreignDevice', deviceId: d.deviceId, createdAt: d.createdAt });
  });
  client.on('deviceLinked', (d) => emit({ type: 'deviceLinked', ...d }));
  client.on('deviceRemoved', (d) => {
    alerts.needsLogin = d.needsLogin;
    emit({ type: 'deviceRemoved', needsLogin: d.needsLogin });
  });
  // The SDK's outgoing queue reports each outgoing message's progress (sending, sent, failed
  // with its reason); the reducer merges by id, so the send's own answer may come before or after.
  client.on('messageUpdated', (m) => emit({ type: 'message', message: toView(m) }));
  // A reaction, edit or delete (mine or received) changed a message; delete for me removed one.
  client.on('messageChanged', (m) => emit({ type: 'message', message: toView(m) }));
  client.on('messageRemoved', (r) => emit({ type: 'messageRemoved', conversationId: r.conversationId, messageId: r.id }));
  client.on('sendFailed', (f) => {
    if (f.error instanceof UntrustedIdentityError)
      emit({ type: 'identityChanged', userId: f.error.userId });
  });
  // The socket's own state drives the offline banner: a server outage with the network up
  // shows it too, and it clears only once the socket is connected again.
  client.on('connection', (c) => emit({ type: 'connection', online: c.online }));
  // The drain ended and the server had to drop group messages for this device (full mailbox).
  client.on('mailboxEmpty', (e) => {
    if (e.missed > 0) emit({ type: 'messagesMissed', count: e.missed });
  });
  client.on('membershipWarning', (w) =>
    emit({ type: 'membershipWarning', conversationId: w.conversationId, userIds: w.userIds }),
  );
  // The SDK deleted them from the store (and my expired blobs from the server); the screen
  // drops them, which also revokes any object URL their previews held.
  client.on('messagesExpired', (e) =>
    emit({ type: 'messagesExpired', conversationId: e.conversationId, messageIds: e.messageIds }),
  );
  client.on('groupChangeRefused', (r) => {
    // Someone sent a change they may not make: it is ignored. Log the op only, never content.
    console.warn('cipherchat: a group change was refused:', r.op, r.reason);
  });
  client.on('error', (err) => {
    // Background work (backup upload, prekey refill) failed; the SDK retries. Log the code only.
    console.warn('cipherchat: background task failed:', err instanceof Error ? err.name : 'error');
    // A key backup the server offered was refused: tell the user (uploads stop until a login).
    if (err instanceof Error && err.name === 'BackupRefusedError' && 'code' in err) {
      emit({ type: 'backupRefused', code: String(err.code), message: err.message });
    }
  });
  client.on('decryptFailed', (e) => {
    // Only the reason code and the sender's device: never content.
    console.warn(
      'cipherchat: a message could not be decrypted:',
      e.code,
      `from device ${e.senderDeviceId}`,
    );
  });
}
