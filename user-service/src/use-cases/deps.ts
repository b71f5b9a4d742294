import type { DataSource } from 'typeorm';
import type { Logger, OutboxRelay, RevocationList } from '@cipherchat/service-kit';
import type { Config } from '../config.js';
import type { TokenSigner } from '../auth/token-signer.js';
import type { OpaqueServer } from '../auth/opaque-server.js';
import type { LoginStateStore } from '../auth/login-states.js';
import type { RateLimits } from '../auth/rate-limits.js';
import type { LinkSeal } from '../auth/link-seal.js';

/** Everything the use cases need; built once in `createApp`. */
export interface UseCaseDeps {
  config: Config;
  ds: DataSource;
  logger: Logger;
  signer: TokenSigner;
  opaque: OpaqueServer;
  loginStates: LoginStateStore;
  limits: RateLimits;
  seal: LinkSeal;
  /** Ended sessions, for chat-service to refuse their access tokens and cut their sockets. */
  revocations: RevocationList;
  /** Set once the relay runs; `kick()` after a commit that wrote outbox rows. */
  relay: Pick<OutboxRelay, 'kick'>;
}
