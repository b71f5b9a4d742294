/**
 * Key backup, WebCrypto only: the payload ({@link ./payload.ts}), the wraps of its data key
 * ({@link ./wraps.ts}) and the sealed blob ({@link ./sealed.ts}). The server stores the
 * versioned blob and never sees the export key, the recovery key or the data key.
 */
export * from './payload.js';
export * from './wraps.js';
export * from './sealed.js';
