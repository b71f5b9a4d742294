import { randomBytes } from 'node:crypto';
import type { RunNames } from '@cipherchat/service-kit/testing';

/** What {@link testEnv} needs to know about the run notification-service joins. */
export interface TestEnvOptions {
  /** The run's names (exchange, queue prefix `notify`). */
  names: RunNames;
  /** URL of the run's database (as the service should reach it). */
  databaseUrl: string;
  /** Where it sends mail (a test SMTP server). */
  smtpUrl: string;
  /** Where the JWKS is served (default: an unused address, for in-process apps given `verifyToken`). */
  jwksUrl?: string;
  /** amqp:// URL (default local RabbitMQ). */
  amqpUrl?: string;
  /** Anything else (log level, retry and digest knobs). */
  overrides?: Record<string, string>;
}

/**
 * The environment notification-service runs with in a test or benchmark stack: in-process
 * (`createApp(parseConfig(configSchema, testEnv(…)))`) or in a child process (as its `env`).
 * @param options the run's names, database, SMTP server, JWKS and overrides
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
    QUEUE_PREFIX: options.names.queuePrefix('notify'),
    SMTP_URL: options.smtpUrl,
    SMTP_TIMEOUT_MS: '5000',
    MAIL_FROM: 'CipherChat <no-reply@cipherchat.test>',
    PUBLIC_BASE_URL: 'http://chat.test',
    UNSUBSCRIBE_SECRET: randomBytes(32).toString('hex'),
    JWKS_URL: options.jwksUrl ?? 'http://127.0.0.1:9/unused-jwks.json',
    ...options.overrides,
  };
}
