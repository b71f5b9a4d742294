import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@cipherchat/service-kit';
import { configSchema, parseMailFrom } from './config.js';
import { logoUrl } from './mail/logo.js';
import { smtpTransportOptions } from './mail/mailer.js';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/chat_db',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  SMTP_URL: 'smtp://127.0.0.1:1025',
  MAIL_FROM: 'CipherChat <no-reply@localhost>',
  PUBLIC_BASE_URL: 'http://localhost:8080/',
  UNSUBSCRIBE_SECRET: 'a'.repeat(64),
  JWKS_URL: 'http://127.0.0.1:3001/api/user/.well-known/jwks.json',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

const problems = (overrides: Record<string, string | undefined>) => {
  try {
    parseConfig(configSchema, { ...env, ...overrides });
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
};

describe('config', () => {
  it('when the npm start environment is given, then it parses with production retry defaults', () => {
    const c = parseConfig(configSchema, env);
    expect(c.PORT).toBe(3003);
    expect(c.MAIL_FROM).toEqual({ name: 'CipherChat', address: 'no-reply@localhost' });
    expect(c.PUBLIC_BASE_URL).toBe('http://localhost:8080');
    expect([c.RETRY_MAX_ATTEMPTS, c.RETRY_BASE_MS, c.RETRY_MAX_MS]).toEqual([8, 2000, 300_000]);
    expect(c.DIGEST_DELAY_MINUTES).toBe(15);
    expect(c.QUEUE_PREFIX).toBe('notification-service');
    expect(c.CLOUDINARY_URL).toBeUndefined();
    expect(c.REVOCATION_KEY_PREFIX).toBe('cc:revoked:');
  });

  it('when REDIS_URL is missing or not redis://, then the start is refused naming it', () => {
    expect(problems({ REDIS_URL: undefined })[0]).toMatch(/^REDIS_URL:/);
    expect(problems({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual([expect.stringMatching(/^REDIS_URL: must be a redis:\/\/ URL/)]);
  });

  it('when SMTP_URL, MAIL_FROM or the secret is bad, then every problem is named clearly', () => {
    expect(problems({ SMTP_URL: 'http://mail.example:25' })).toEqual([expect.stringMatching(/^SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/)]);
    expect(problems({ SMTP_URL: 'localhost:1025' })[0]).toMatch(/^SMTP_URL:/);
    expect(problems({ SMTP_URL: undefined })[0]).toMatch(/^SMTP_URL: is required/);
    expect(problems({ MAIL_FROM: 'CipherChat' })[0]).toMatch(/^MAIL_FROM: must be an address/);
    expect(problems({ UNSUBSCRIBE_SECRET: 'short' })[0]).toMatch(/^UNSUBSCRIBE_SECRET: must be at least 32/);
    expect(problems({ CLOUDINARY_URL: 'https://res.cloudinary.com/x' })[0]).toMatch(/^CLOUDINARY_URL:/);
    expect(problems({ SMTP_URL: 'nope', MAIL_FROM: 'nope', PUBLIC_BASE_URL: 'ftp://x' })).toHaveLength(3);
  });

  it('when MAIL_FROM is a bare address or has a name, then both parse; junk does not', () => {
    expect(parseMailFrom('no-reply@example.org')).toEqual({ name: '', address: 'no-reply@example.org' });
    expect(parseMailFrom('"Chat" <a@b>')).toBeUndefined();
    expect(parseMailFrom('Chat Team <a@b.c>')).toEqual({ name: 'Chat Team', address: 'a@b.c' });
    expect(parseMailFrom('a@b, c@d')).toBeUndefined();
  });

  it('when SMTP_URL carries credentials or smtps, then the transport gets them decoded and TLS on', () => {
    const o = smtpTransportOptions({ url: 'smtps://us%40er:p%3Ass@mail.example.org', timeoutMs: 1000, rejectUnauthorized: true });
    expect(o).toMatchObject({ host: 'mail.example.org', port: 465, secure: true, auth: { user: 'us@er', pass: 'p:ss' } });
    expect(smtpTransportOptions({ url: 'smtp://127.0.0.1:1025', timeoutMs: 1000, rejectUnauthorized: true })).toMatchObject({ port: 1025, secure: false, auth: undefined });
  });

  it('when CLOUDINARY_URL is set, then the logo URL is built by the Cloudinary SDK; else it is the local static file', () => {
    expect(logoUrl({ cloudinaryUrl: 'cloudinary://123:abc@democloud', logoId: 'cipherchat/logo', publicBaseUrl: 'http://localhost:8080' })).toBe(
      'https://res.cloudinary.com/democloud/image/upload/c_fit,h_96,w_96/v1/cipherchat/logo.png',
    );
    expect(logoUrl({ cloudinaryUrl: undefined, logoId: 'cipherchat/logo', publicBaseUrl: 'http://localhost:8080' })).toBe('http://localhost:8080/logo.png');
  });
});
