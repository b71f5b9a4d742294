/** Why a protocol operation failed; clients switch on `code`, never on messages. */
export type ProtocolErrorCode =
  | 'untrusted_identity'
  | 'no_session'
  | 'invalid_message'
  | 'duplicate_message'
  | 'invalid_signature'
  /** A bundle key that cannot be used (e.g. a low-order one-time prekey from a hostile server). */
  | 'invalid_bundle'
  | 'no_local_identity'
  /** A device listed under my own account whose identity key is not mine (a "ghost" device). */
  | 'foreign_device'
  /** Another user's bundle or first message carries my own identity key (a server relabelling my devices). */
  | 'own_identity_key';

/** Base class of every error thrown by `protocol/`. */
export class ProtocolError extends Error {
  /** Stable machine-readable code. */
  readonly code: ProtocolErrorCode;

  /**
   * @param code stable code
   * @param message human-readable text (never contains key material or plaintext)
   * @param options standard `cause`
   */
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/**
 * A contact's identity key changed (or was never accepted): sending to them, and accepting a new
 * session from them, is blocked until the user compares safety numbers and calls
 * `acceptIdentity(userId)`.
 */
export class UntrustedIdentityError extends ProtocolError {
  /** The contact whose identity key is not trusted. */
  readonly userId: string;

  /**
   * @param userId the contact
   * @param options standard `cause`
   */
  constructor(userId: string, options?: { cause?: unknown }) {
    super('untrusted_identity', `the identity key of ${userId} changed; accept it before messaging`, options);
    this.name = 'UntrustedIdentityError';
    this.userId = userId;
  }
}

/** A ciphertext could not be decrypted (bad MAC, replay, wrong recipient, garbage, no session). */
export class DecryptError extends ProtocolError {
  /**
   * @param code why
   * @param message description
   * @param options standard `cause`
   */
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DecryptError';
  }
}
