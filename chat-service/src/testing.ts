import type { RunNames } from '@cipherchat/service-kit/testing';

/** What {@link testEnv} needs to know about the run chat-service joins. */
export interface TestEnvOptions {
  /** The run's names (exchange, queue prefix `chat`, Redis prefix `chat`). */
  names: RunNames;
  /** URL of the run's database (as the service should reach it). */
  databaseUrl: string;
  /** Where the JWKS is served (default: an unused address, for in-process apps given `verifyToken`). */
  jwksUrl?: string;
  /** Directory for attachment blobs. */
  attachmentsDir: string;
  /** amqp:// URL (default local RabbitMQ). */
  amqpUrl?: string;
  /** redis:// URL (default local Redis). */
  redisUrl?: string;
  /** Anything else (log level, limits). */
  overrides?: Record<string, string>;
}

/**
 * The environment chat-service runs with in a test or benchmark stack: in-process
 * (`createApp(parseConfig(configSchema, testEnv(…)))`) or in a child process (as its `env`).
 * @param options the run's names, database, JWKS and overrides
 * @returns an env object for `parseConfig`
 */
export function testEnv(options: TestEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    AMQP_URL: options.amqpUrl ?? 'amqp://guest:guest@127.0.0.1:5672',
    BUS_EXCHANGE: options.names.exchange,
    QUEUE_PREFIX: options.names.queuePrefix('chat'),
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: options.names.redisPrefix('chat'),
    JWKS_URL: options.jwksUrl ?? 'http://127.0.0.1:9/unused-jwks.json',
    ATTACHMENTS_DIR: options.attachmentsDir,
    ALLOWED_ORIGINS: 'http://localhost:8080',
    ...options.overrides,
  };
}
