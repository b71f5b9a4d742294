export * from './protocol/bytes.js';
export * from './protocol/errors.js';
export * from './protocol/fingerprint.js';
export * from './protocol/keys.js';
export * from './protocol/serial-queue.js';
export * from './protocol/signal-protocol.js';
export * from './storage/protocol-store.js';
export * from './storage/kv-backend.js';
export * from './storage/kv-protocol-store.js';
export { HistoryIndex, timeKey, type HistoryCursor } from './storage/history-index.js';
export * from './messages/message.schema.js';
export * from './storage/indexeddb-backend.js';
export * from './backup/key-backup.js';
export * from './backup/recovery-key.js';
export * from './attachments/attachment-crypto.js';
export * from './transport/api-error.js';
export * from './transport/api-client.js';
export * from './transport/chat-endpoints.js';
export * from './transport/user-endpoints.js';
export * from './transport/notification-endpoints.js';
export * from './transport/socket-client.js';
export * from './client/chat-client.js';
export * from './client/retry-policy.js';
export { isUnreachable, OFFLINE_RESUME_MAX_AGE_MS } from './client/offline-cache.js';
export * from './client/backup-sync.js';
export * from './client/emitter.js';
export * from './client/groups.js';
export * from './client/history.js';
export * from './client/search.js';
export type { Snippet } from './storage/search-text.js';
export * from './client/groups-state.js';
export * from './client/group-views.js';
export * from './client/message-action-rules.js';
export { MessageActions } from './client/message-actions.js';
export * from './client/receipt-state.js';
export * from './client/group-permissions.js';
export * from './transport/progress.js';
export {
  AttachmentTooLargeError,
  ATTACHMENT_OVERHEAD,
  DEFAULT_MEDIA_CACHE_BYTES,
  formatFileSize,
  type AttachmentMeta,
} from './client/attachment-transfer.js';
export * from './client/avatar-rules.js';
export { Avatars, type AvatarImage } from './client/avatars.js';
export * from './client/retry-state.js';
export { MAX_RESENDS_PER_READER, MAX_RETRY_DEPTH, PEER_REQUESTS_PER_MINUTE, RETRY_LOG_LIMIT, RETRY_WINDOW_MS, type RefusedReason } from './client/retry-log.js';
export { REQUESTS_PER_DEVICE_PER_HOUR, REQUESTS_PER_HOUR } from './client/retry-budget.js';
export { Retries, RETRY_TICK_MS } from './client/retries.js';
export { RESET_MIN_MS } from './client/retry-send.js';
