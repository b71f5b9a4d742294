import { i18next } from '../i18n/index.js';

/**
 * User-facing sentences for errors. The errors themselves are the SDK's `ApiError` (HTTP and
 * socket answers, network failures); this file only words them for the screens, in the UI
 * language at the time of the call (namespace `errors`).
 */

/** Error codes with their own sentence, and its key in the `errors` namespace. */
const KEYS: Record<string, string> = {
  invalid_credentials: 'invalidCredentials',
  rate_limited: 'rateLimited',
  account_locked: 'accountLocked',
  email_taken: 'emailTaken',
  username_taken: 'usernameTaken',
  network_error: 'networkError',
  bad_response: 'badResponse',
  unauthorized: 'sessionEnded',
  token_expired: 'sessionEnded',
  stale_devices: 'staleDevices',
  unexpected_member: 'unexpectedMember',
  group_state_pending: 'groupStatePending',
  membership_changed: 'membershipChanged',
  backup_rollback: 'backupRollback',
  backup_version_mismatch: 'backupTampered',
  backup_tampered: 'backupTampered',
  backup_key_changed: 'backupKeyChanged',
  mailbox_full: 'mailboxFull',
  quota_exceeded: 'quotaExceeded',
  too_many_devices: 'tooManyDevices',
};

/**
 * Turns anything thrown into a sentence for the user.
 * @param error what was thrown
 * @returns a short message
 */
export function describeError(error: unknown): string {
  // Duck-typed on `code`: the SDK's ApiError (and SocketAckError) carry it; so does anything the
  // adapter throws for the UI.
  const code =
    error && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  if (code) {
    const key = Object.hasOwn(KEYS, code) ? KEYS[code] : undefined;
    if (key) return i18next.t(`errors:${key}`);
    return error instanceof Error && error.message ? error.message : code;
  }
  if (error instanceof Error) return error.message;
  return i18next.t('errors:unknown');
}
