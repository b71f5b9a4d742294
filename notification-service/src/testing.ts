import { randomBytes } from 'node:crypto';
import { sharedTestEnv, type SharedTestEnvOptions } from '@cipherchat/service-kit/testing';

/** What {@link testEnv} needs to know about the run notification-service joins. */
export interface TestEnvOptions extends SharedTestEnvOptions {
  /** Where it sends mail (a test SMTP server). */
  smtpUrl: string;
  /** redis:// URL of the revocation list (default local Redis). */
  redisUrl?: string;
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
    ...sharedTestEnv('notify', options),
    SMTP_URL: options.smtpUrl,
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    SMTP_TIMEOUT_MS: '5000',
    MAIL_FROM: 'CipherChat <no-reply@cipherchat.test>',
    PUBLIC_BASE_URL: 'http://chat.test',
    UNSUBSCRIBE_SECRET: randomBytes(32).toString('hex'),
    ...options.overrides,
  };
}
