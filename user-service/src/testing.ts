import { randomUUID } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { exportJWK, generateKeyPair } from 'jose';

/** Fresh secrets for a user-service instance (tests, the dev start script). */
export interface UserServiceSecrets {
  /** JSON array with one private ES256 JWK (with `kid`), as the env variable expects it. */
  JWT_PRIVATE_KEYS: string;
  /** Output of `opaque.server.createSetup()`. */
  OPAQUE_SERVER_SETUP: string;
}

/**
 * Generates a fresh signing key and OPAQUE server setup.
 * @returns env-ready secret values
 */
export async function generateSecrets(): Promise<UserServiceSecrets> {
  await opaque.ready;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const key = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid: randomUUID() };
  return { JWT_PRIVATE_KEYS: JSON.stringify([key]), OPAQUE_SERVER_SETUP: opaque.server.createSetup() };
}

/** What {@link testEnv} needs to know about the test's own infrastructure. */
export interface TestEnvOptions {
  /** URL of the test's fresh database. */
  databaseUrl: string;
  /** The test's own topic exchange (e.g. `t.<suffix>`). */
  exchange: string;
  /** amqp:// URL (default local RabbitMQ). */
  amqpUrl?: string;
  /** redis:// URL (default local Redis). */
  redisUrl?: string;
  /** Redis key prefix for this run (default random). */
  redisKeyPrefix?: string;
  /** Secrets (default freshly generated). */
  secrets?: UserServiceSecrets;
  /** Anything else to override (e.g. rate limit knobs). */
  overrides?: Record<string, string>;
}

/**
 * Builds the environment for booting user-service in-process in another workspace's test:
 * `createApp(parseConfig(configSchema, await testEnv({...})))`.
 * Per-IP and directory limits are raised so test suites that log in many users from 127.0.0.1
 * (and search a lot) are not throttled; tests of those limits set their own.
 * @param options database, exchange and overrides
 * @returns an env object for `parseConfig`
 */
export async function testEnv(options: TestEnvOptions): Promise<Record<string, string>> {
  const secrets = options.secrets ?? (await generateSecrets());
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: options.databaseUrl,
    AMQP_URL: options.amqpUrl ?? 'amqp://guest:guest@127.0.0.1:5672',
    BUS_EXCHANGE: options.exchange,
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: options.redisKeyPrefix ?? `t:user:${randomUUID().slice(0, 8)}:`,
    PUBLIC_BASE_URL: 'http://localhost:8080',
    COOKIE_SECURE: 'false',
    RATE_LIMIT_IP_POINTS: '100000',
    RATE_DIRECTORY_PER_MIN: '100000',
    ...secrets,
    ...options.overrides,
  };
}
