/**
 * User-facing sentences for errors. The errors themselves are the SDK's `ApiError` (HTTP and
 * socket answers, network failures); this file only words them for the screens.
 */

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
    switch (code) {
      case 'invalid_credentials':
        return 'Wrong email or password.';
      case 'rate_limited':
        return 'Too many attempts. Wait a moment and try again.';
      case 'account_locked':
        return 'This account is locked for a while after too many failed logins.';
      case 'email_taken':
        return 'An account with this email already exists.';
      case 'username_taken':
        return 'This username is taken.';
      case 'network_error':
        return 'Cannot reach the server. Check your connection.';
      case 'bad_response':
        return 'The server sent an unexpected answer.';
      case 'unauthorized':
      case 'token_expired':
        return 'Your session has ended. Log in again.';
      case 'stale_devices':
        return 'The recipient’s devices changed. Retry to encrypt for the new list.';
      case 'unexpected_member':
        return 'The server lists people no member added to this chat; nothing was sent to them.';
      case 'group_state_pending':
        return 'Waiting for the group’s details from a member. Try again in a moment.';
      case 'membership_changed':
        return 'Someone joined after you wrote this. Retry to send it to the group as it is now.';
      case 'backup_rollback':
        return 'The server offered an older copy of your keys; it was refused.';
      case 'backup_version_mismatch':
      case 'backup_tampered':
        return 'The copy of your keys on the server was altered; it was refused.';
      case 'backup_key_changed':
        return 'Your key backup was re-keyed on another device. Log out and log in again here.';
      case 'mailbox_full':
        return 'Not sent: the recipient has too many undelivered messages waiting. Try again later.';
      case 'quota_exceeded':
        return 'Not uploaded: your attachments use all of your storage. Older ones free space as they expire.';
      case 'too_many_devices':
        return 'Your account has reached its device limit. Remove a device and try again.';
      default:
        return error instanceof Error && error.message ? error.message : code;
    }
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
