import { z } from 'zod';

/**
 * Longest plaintext JSON a `retry` resend carries: as much as one envelope can hold (256 Ki
 * base64 characters, `MAX_ENVELOPE_BODY_CHARS`, are 192 KiB of bytes, and a JSON character is at
 * least one byte), so the JSON of any plaintext that could be sent at all passes, even a 64 Ki
 * character text of quotes (each escaped to two characters).
 */
export const MAX_RESENT_CHARS = 196_608;

/**
 * A decryption-failure retry (kind `retry`; docs/client.md "Decrypt failures and retries"). It
 * goes to every device of the conversation (the server wants the whole device set), but only
 * the device named in `to` acts on it; the others ignore it.
 */
export const RetryControl = z.strictObject({
  /**
   * `request`: I could not decrypt the message `messageId` that `to` sent me: please send it
   * again. `resend`: here it is again (`plaintext`). `answer`: nothing is sent again (`reason`).
   */
  op: z.enum(['request', 'resend', 'answer']),
  /** The server message id of the message that failed to decrypt (the same for all its envelopes). */
  messageId: z.uuid(),
  /** The one device this is for: the original sender (request) or the device that asked (resend, answer). */
  to: z.strictObject({ userId: z.uuid(), deviceId: z.number().int().min(1).max(2_147_483_647) }),
  /**
   * Op `resend` of a retry message that itself failed: the server id of the original message it
   * carries (that placeholder resolves too, and the message is stored with the original's ids).
   */
  of: z.uuid().optional(),
  /** The original plaintext's JSON (op `resend`): read like a received plaintext of its own. */
  plaintext: z.string().min(2).max(MAX_RESENT_CHARS).optional(),
  /**
   * Why nothing comes (op `answer`): `control` (it was a receipt or typing message: nothing to
   * show), `deleted` (deleted for everyone), `expired` (it disappeared or left the sender's history).
   */
  reason: z.enum(['control', 'deleted', 'expired']).optional(),
});
/** A decryption-failure retry message. */
export type RetryControl = z.infer<typeof RetryControl>;
