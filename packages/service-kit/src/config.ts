import { z } from 'zod';

/** Environment variables every service shares. URLs have no defaults: a missing one is an error. */
export const commonEnv = {
  /** `production`, `development` or `test`. */
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL connection URL. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// URL' }),
  /** RabbitMQ connection URL. */
  AMQP_URL: z.url({ protocol: /^amqps?$/, message: 'must be an amqp:// URL' }),
  /** Topic exchange all events go through. */
  BUS_EXCHANGE: z.string().regex(/^[a-z0-9_.-]+$/).default('cipherchat.events'),
  /** Interface to bind. */
  HOST: z.string().default('0.0.0.0'),
};

/** Raised by {@link parseConfig}; lists every problem, not just the first. */
export class ConfigError extends Error {
  /**
   * @param issues one line per invalid or missing variable
   */
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment against a schema and returns a frozen, typed config.
 * @param schema zod object schema of the service's variables
 * @param env the environment (defaults to `process.env`)
 * @returns the parsed configuration
 * @throws {ConfigError} listing every invalid or missing variable
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return Object.freeze(result.data);
}

/**
 * Like {@link parseConfig}, but for `main.ts`: prints every problem and exits non-zero.
 * @param schema zod object schema of the service's variables
 * @param env the environment (defaults to `process.env`)
 * @returns the parsed configuration
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
