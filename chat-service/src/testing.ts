import { sharedTestEnv, type SharedTestEnvOptions } from '@cipherchat/service-kit/testing';

/** What {@link testEnv} needs to know about the run chat-service joins. */
export interface TestEnvOptions extends SharedTestEnvOptions {
  /** Directory for attachment blobs. */
  attachmentsDir: string;
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
    ...sharedTestEnv('chat', options),
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: options.names.redisPrefix('chat'),
    ATTACHMENTS_DIR: options.attachmentsDir,
    ALLOWED_ORIGINS: 'http://localhost:8080',
    ...options.overrides,
  };
}
