import type { DeviceAddress, MessageSendResult } from '@cipherchat/contracts';
import { AppError, ConflictError } from '@cipherchat/service-kit/errors';
import type { SendContext } from './ports.js';

/**
 * Compares the devices a sender addressed with the devices that must receive the message
 * (every keyed device of every other member plus the sender's other devices), like Signal's
 * 409 "mismatched devices".
 * @param expected the current device set
 * @param given the envelopes' addresses
 * @returns devices without an envelope (`missing`) and envelopes for unknown devices (`extra`)
 */
export function diffDeviceSet(
  expected: readonly DeviceAddress[],
  given: readonly DeviceAddress[],
): { missing: DeviceAddress[]; extra: DeviceAddress[] } {
  const key = (d: DeviceAddress) => `${d.userId}:${d.deviceId}`;
  const want = new Set(expected.map(key));
  const have = new Set(given.map(key));
  return {
    missing: expected.filter((d) => !have.has(key(d))),
    extra: given.filter((d) => !want.has(key(d))),
  };
}

/**
 * Finds envelopes addressed twice to the same device.
 * @param given the envelopes' addresses
 * @returns the duplicated addresses (empty when none)
 */
export function duplicateAddresses(given: readonly DeviceAddress[]): DeviceAddress[] {
  const seen = new Set<string>();
  const dups: DeviceAddress[] = [];
  for (const d of given) {
    const k = `${d.userId}:${d.deviceId}`;
    if (seen.has(k)) dups.push(d);
    seen.add(k);
  }
  return dups;
}

/**
 * The send rule, stated once: a message is stored only if its sender is a member of the
 * conversation, a direct conversation has exactly two members (self: one), and its envelopes address exactly the conversation's device set, i.e. every
 * keyed device of every member less the sending device (so every other member's devices and
 * the sender's other devices). The batched write statement (store/message.writer.ts) enforces
 * it in SQL on the hot path, with the membership rows locked; this function applies it to a
 * freshly read {@link SendContext} to say which part failed when that statement refused a
 * message, and answers a duplicate with its original.
 * @param sc dedupe row, members and their keyed devices, read after the write
 * @param sender the sending device
 * @param conversationId the conversation sent to
 * @param given the envelopes' addresses
 * @returns the duplicate's original result, or undefined when the send may be stored
 * @throws {AppError} `not_member` (also for a missing conversation: existence is not revealed)
 * @throws {ConflictError} `stale_devices` with `{missing, extra}`; `conflict` when the
 *   clientMessageId was used for another conversation, or a direct conversation does not have
 *   exactly two members (a self conversation one), e.g. the peer's account was deleted
 */
export function checkSend(
  sc: SendContext,
  sender: DeviceAddress,
  conversationId: string,
  given: readonly DeviceAddress[],
): MessageSendResult | undefined {
  if (sc.existing) {
    if (sc.existing.conversationId !== conversationId) {
      throw new ConflictError('clientMessageId was already used for another conversation', 'conflict');
    }
    return { messageId: sc.existing.messageId, serverTimestamp: sc.existing.serverTs.toISOString(), duplicate: true };
  }
  if (!sc.members.includes(sender.userId)) throw new AppError(403, 'not_member', 'you are not a member of this conversation');
  const size = sc.kind === 'direct' ? 2 : sc.kind === 'self' ? 1 : undefined;
  if (size !== undefined && sc.members.length !== size) {
    throw new ConflictError(`a ${sc.kind} conversation must have exactly ${size} member${size > 1 ? 's' : ''}; it has ${sc.members.length}`, 'conflict');
  }
  const expected = sc.devices.filter((d) => !(d.userId === sender.userId && d.deviceId === sender.deviceId));
  const diff = diffDeviceSet(expected, given);
  if (diff.missing.length > 0 || diff.extra.length > 0) {
    throw new ConflictError('the device list is out of date: fetch bundles for missing devices, drop extra ones', 'stale_devices', diff);
  }
  return undefined;
}
