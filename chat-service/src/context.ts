import type { DataSource } from 'typeorm';
import type {
  Logger,
  Metrics,
  Redis,
  RevocationList,
  TokenVerifier,
} from '@cipherchat/service-kit';
import type { Config } from './config.js';
import type { ChatDeps } from './domain/deps.js';
import type { RateLimits } from './rate-limits.js';
import type { MessageWriter } from './store/message.writer.js';

/**
 * The infrastructure `createApp` built, as tests see it (`app.ctx`). Entry points get only
 * what they need (routes and handlers the use-case dependencies, plus rate limits and the
 * token verifier at the edge); nothing here is replaced after construction.
 */
export interface ChatContext {
  config: Config;
  ds: DataSource;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  verifyToken: TokenVerifier;
  limits: RateLimits;
  /** Ended sessions (written by user-service), refused at REST, handshake and on a timer. */
  revocations: RevocationList;
  /** Batches message writes (one commit for many sends under load). */
  writer: MessageWriter;
  /** What the use cases get (stores, notifier, presence, writer, acks). */
  deps: ChatDeps;
}
