import { z } from 'zod';

/** Every error code the services answer with; clients switch on these, never on messages. */
export const ErrorCode = z.enum([
  'validation_error',
  'invalid_json',
  'payload_too_large',
  'unauthorized',
  'invalid_credentials',
  'token_expired',
  'invalid_token',
  'reauth_required',
  'fresh_login_required',
  'forbidden',
  'origin_not_allowed',
  'not_found',
  'conflict',
  'version_conflict',
  'email_taken',
  'username_taken',
  'too_many_devices',
  'invalid_signature',
  'invalid_device_credentials',
  'stale_devices',
  'rate_limited',
  'account_locked',
  'not_member',
  'unknown_device',
  'account_deleted',
  'session_revoked',
  'mailbox_full',
  'quota_exceeded',
  'internal_error',
  'unavailable',
]);
/** A machine-readable error code (snake_case). */
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The body of every HTTP error answer: `{ error: { code, message, details? } }`. */
export const ErrorBody = z.object({
  error: z.object({
    /** Stable machine-readable code. */
    code: z.string(),
    /** Human-readable explanation, safe to show to the user. */
    message: z.string(),
    /** Optional structured details (for example the list of validation issues). */
    details: z.unknown().optional(),
  }),
});
/** The body of every HTTP error answer. */
export type ErrorBody = z.infer<typeof ErrorBody>;
