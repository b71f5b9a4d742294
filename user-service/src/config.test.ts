import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@cipherchat/service-kit';
import { configSchema } from './config.js';
import { generateSecrets } from './testing.js';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_BASE_URL: 'https://chat.example/',
};

describe('user-service config', () => {
  it('when everything required is given, then defaults fill the rest', async () => {
    const c = parseConfig(configSchema, { ...base, ...(await generateSecrets()) });
    expect(c.PORT).toBe(3001);
    expect(c.PUBLIC_BASE_URL).toBe('https://chat.example');
    expect(c.ALLOWED_ORIGINS).toEqual(['https://chat.example']);
    expect(c.COOKIE_SECURE).toBe(true);
    expect(c.ACCESS_TOKEN_TTL_S).toBe(900);
    expect(c.LOGIN_MAX_FAILURES).toBe(10);
    expect(c.JWT_PRIVATE_KEYS[0]?.kid).toBeTruthy();
  });

  it('when secrets are missing or malformed, then every problem is listed at once', () => {
    let error: unknown;
    try {
      parseConfig(configSchema, { ...base, JWT_PRIVATE_KEYS: '[{"kty":"EC"}]', OPAQUE_SERVER_SETUP: 'short', COOKIE_SECURE: 'yes', REDIS_URL: 'http://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).issues.join('\n');
    for (const name of ['JWT_PRIVATE_KEYS', 'OPAQUE_SERVER_SETUP', 'COOKIE_SECURE', 'REDIS_URL']) expect(text).toContain(name);
  });

  it('when two keys share a kid or the JSON is broken, then it is refused', async () => {
    const [k] = JSON.parse((await generateSecrets()).JWT_PRIVATE_KEYS) as unknown[];
    const setup = (await generateSecrets()).OPAQUE_SERVER_SETUP;
    expect(() => parseConfig(configSchema, { ...base, OPAQUE_SERVER_SETUP: setup, JWT_PRIVATE_KEYS: JSON.stringify([k, k]) })).toThrow(/distinct kid/);
    expect(() => parseConfig(configSchema, { ...base, OPAQUE_SERVER_SETUP: setup, JWT_PRIVATE_KEYS: '[{' })).toThrow(/JSON array/);
  });
});
