import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, parseConfig } from './config.js';

const schema = z.object({ ...commonEnv, PORT: z.coerce.number().int().min(1).max(65535) });

describe('parseConfig', () => {
  it('when several variables are wrong, then every problem is listed at once', () => {
    let error: unknown;
    try {
      parseConfig(schema, { DATABASE_URL: 'mysql://x', PORT: 'abc' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(issues).toMatch(/AMQP_URL/);
    expect(issues).toMatch(/PORT/);
  });

  it('when the environment is valid, then a frozen typed config comes back with defaults', () => {
    const config = parseConfig(schema, { DATABASE_URL: 'postgres://h/db', AMQP_URL: 'amqp://h', PORT: '3001' });
    expect(config.PORT).toBe(3001);
    expect(config.BUS_EXCHANGE).toBe('cipherchat.events');
    expect(Object.isFrozen(config)).toBe(true);
  });
});
