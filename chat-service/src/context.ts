import type { DataSource } from 'typeorm';
import type { Logger, Metrics, OutboxRelay, Redis, TokenVerifier } from '@cipherchat/service-kit';
import type { ServerToClientEvents } from '@cipherchat/contracts';
import type { Config } from './config.js';
import type { BlobStore } from './store/blob.store.js';
import type { RateLimits } from './rate-limits.js';
import type { MessageWriter, Queryable } from './store/message.writer.js';
import type { Batcher } from './store/batcher.js';
import type { AckRequest } from './store/mailbox.repository.js';

/** Pushes server events to every connected device of some users (through the Redis adapter, so across processes). */
export type NotifyUsers = <E extends keyof ServerToClientEvents>(
  userIds: readonly string[],
  event: E,
  ...args: Parameters<ServerToClientEvents[E]>
) => void;

/** What routes, socket handlers and consumers share (built once in `createApp`). */
export interface ChatContext {
  config: Config;
  ds: DataSource;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  verifyToken: TokenVerifier;
  blobs: BlobStore;
  limits: RateLimits;
  /** Batches message writes (one commit for many sends under load). */
  writer: MessageWriter;
  /** Batches acks (one statement for many devices' acks). */
  acks: Batcher<AckRequest, { deleted: number; drainedRecorded: boolean }>;
  /** A small pool with `synchronous_commit=off`, for writes whose loss on a database crash is harmless (acks). */
  relaxedDb: Queryable;
  /** Publishes committed outbox rows now (set once the relay runs). */
  kickOutbox: () => void;
  /** Emits to users' rooms (set once Socket.IO is attached). */
  notifyUsers: NotifyUsers;
  /** Disconnects every socket of one device (device removed). */
  disconnectDevice: (userId: string, deviceId: number) => void;
  /** Disconnects every socket of a user (account deleted). */
  disconnectUser: (userId: string) => void;
}

/** Room of every socket of a user. */
export const userRoom = (userId: string) => `u:${userId}`;
/** Room of every socket of one device. */
export const deviceRoom = (userId: string, deviceId: number) => `d:${userId}:${deviceId}`;

export type { OutboxRelay };
