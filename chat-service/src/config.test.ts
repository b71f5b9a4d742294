import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@cipherchat/service-kit';
import { configSchema } from './config.js';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/db',
  AMQP_URL: 'amqp://127.0.0.1',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWKS_URL: 'http://127.0.0.1:3001/api/user/.well-known/jwks.json',
};

describe('config', () => {
  it('when only the URLs are given, then the documented defaults apply', () => {
    const c = parseConfig(configSchema, base);
    expect(c.PORT).toBe(3002);
    expect(c.MAX_DEVICES).toBe(6);
    expect(c.FRESH_LOGIN_MAX_AGE_S).toBe(300);
    expect(c.MESSAGE_RETENTION_DAYS).toBe(30);
    expect(c.ATTACHMENT_MAX_BYTES).toBe(25 * 1024 * 1024);
    expect(c.CLOUDINARY_URL).toBeUndefined();
    expect(c.ALLOWED_ORIGINS).toEqual(['http://localhost:8080']);
  });

  it('when only PUBLIC_BASE_URL is given, then its origin is the allowed origin', () => {
    expect(parseConfig(configSchema, { ...base, PUBLIC_BASE_URL: 'https://chat.example.org/app/' }).ALLOWED_ORIGINS).toEqual(['https://chat.example.org']);
    expect(parseConfig(configSchema, { ...base, ALLOWED_ORIGINS: 'https://a.example, https://b.example/' }).ALLOWED_ORIGINS).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('when URLs are missing or malformed, then every problem is listed', () => {
    try {
      parseConfig(configSchema, { REDIS_URL: 'http://nope', CLOUDINARY_URL: 'x' });
      expect.unreachable();
    } catch (err) {
      const issues = (err as ConfigError).issues.join('\n');
      for (const k of ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL', 'JWKS_URL', 'CLOUDINARY_URL']) expect(issues).toContain(k);
    }
  });
});
