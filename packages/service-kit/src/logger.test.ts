import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { LogCapture } from './testing/index.js';
import { censorSecrets, createLogger, sensitiveKeys } from './logger.js';

/** One distinct marker per sensitive key, so a leak names the key. */
const secrets = Object.fromEntries(sensitiveKeys.map((k) => [k, `SECRET-${k}-marker`]));
const markers = Object.values(secrets);

function logged(log: (logger: ReturnType<typeof createLogger>) => void): string {
  const out = new LogCapture();
  log(createLogger('logger-test', 'debug', out));
  return out.text();
}

function expectNoSecret(text: string): void {
  for (const m of markers) expect(text, m).not.toContain(m);
  expect(text).not.toContain('alice@example.com');
}

function queryFailed(): QueryFailedError {
  const driverError = new pg.DatabaseError('duplicate key value violates unique constraint "users_email_key"', 0, 'error');
  driverError.code = '23505';
  driverError.detail = 'Key (email)=(alice@example.com) already exists.';
  return new QueryFailedError(
    'INSERT INTO "users"."users"("email", "opaque_record") VALUES ($1, $2)',
    ['alice@example.com', secrets.registrationRecord],
    driverError,
  );
}

describe('log redaction', () => {
  it('when secrets are logged at the top level, then none appears and the other fields stay', () => {
    const text = logged((l) => l.info({ ...secrets, userId: 'u-visible' }, 'top'));
    expectNoSecret(text);
    expect(text).toContain('u-visible');
    expect(text).toContain('[redacted]');
  });

  it('when secrets are nested 1 and 3 levels deep and in arrays, then none appears', () => {
    const text = logged((l) => {
      l.info({ input: secrets }, 'one level');
      l.info({ a: { b: { c: secrets } }, list: [{ deep: [secrets] }] }, 'three levels');
    });
    expectNoSecret(text);
    expect(text).toContain('three levels');
  });

  it('when keys differ in case (headers), then they are still redacted', () => {
    const text = logged((l) =>
      l.info({ headers: { Authorization: secrets.authorization, 'Set-Cookie': [secrets['set-cookie']], 'X-Device-Secret': secrets['x-device-secret'] } }),
    );
    expectNoSecret(text);
  });

  it('when a TypeORM QueryFailedError is logged, then its query parameters and the key detail are not, but its type and message are', () => {
    const text = logged((l) => {
      l.error({ err: queryFailed() }, 'unhandled error');
      l.error(queryFailed());
      l.error({ err: new Error('wrapped', { cause: queryFailed() }) }, 'with cause');
      l.error({ nested: { error: queryFailed() } }, 'not under err');
    });
    expectNoSecret(text);
    const line = JSON.parse(text.split('\n')[0] as string) as { err: Record<string, unknown> };
    expect(line.err.type).toBe('QueryFailedError');
    expect(line.err.message).toContain('users_email_key');
    expect(line.err.query).toContain('$1');
    expect(line.err.parameters).toBe('[redacted]');
    expect((line.err.driverError as Record<string, unknown>).code).toBe('23505');
  });

  it('when a sensitive key holds a count, then the number stays; the caller objects are not changed', () => {
    const input = { envelopes: 3, nested: { token: secrets.token } };
    const err = queryFailed();
    const text = logged((l) => l.info({ ...input, err }, 'retention'));
    expect(JSON.parse(text)).toMatchObject({ envelopes: 3, nested: { token: '[redacted]' } });
    expect(input.nested.token).toBe(secrets.token);
    expect(err.parameters).toEqual(['alice@example.com', secrets.registrationRecord]);
    const clean = { a: { b: 1 }, list: [1, 2] };
    expect(censorSecrets(clean)).toBe(clean);
  });

  it('when an object is cyclic, then logging terminates', () => {
    const cyclic: Record<string, unknown> = { token: secrets.token };
    cyclic.self = cyclic;
    expectNoSecret(logged((l) => l.info({ cyclic }, 'cycle')));
  });
});
