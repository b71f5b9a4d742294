import type { Config } from '../config.js';
import type {
  AccountStore,
  AckWrites,
  AttachmentStore,
  BackupStore,
  BlobStore,
  ConversationStore,
  Db,
  DeviceStore,
  Log,
  MailboxStore,
  MessageWrites,
  Notifier,
  OutboxKick,
  PresenceLookup,
  SafetyStore,
  Transact,
} from './ports.js';

/**
 * Everything the use cases need, built once in `createApp` (the composition root): the
 * repository ports implemented by store/, the notifier and presence implemented by
 * realtime/. Use cases take it as their first argument and own their transactions.
 */
export interface ChatDeps {
  config: Config;
  log: Log;
  /** The pool (outside any transaction). */
  db: Db;
  /** Runs work in one transaction. */
  transact: Transact;
  conversations: ConversationStore;
  devices: DeviceStore;
  mailbox: MailboxStore;
  backups: BackupStore;
  accounts: AccountStore;
  attachments: AttachmentStore;
  /** Message requests, blocks, privacy settings, reports. */
  safety: SafetyStore;
  blobs: BlobStore;
  /** The batched message writer (the hot path). */
  writer: MessageWrites;
  /** The batched acks. */
  acks: AckWrites;
  presence: PresenceLookup;
  notifier: Notifier;
  outbox: OutboxKick;
}
