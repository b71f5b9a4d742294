import { randomBytes, randomUUID } from 'node:crypto';

/**
 * A short random name part, for per-test databases, exchanges and queues.
 * @returns 10 lowercase hex chars
 */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** The names of one test run's (or benchmark's) private objects on the shared servers. */
export interface RunNames {
  /** The random part every name carries. */
  suffix: string;
  /** PostgreSQL database: `<root>_<scope>_<suffix>` (`t_client_ab12…`, `bench_ab12…`). */
  database: string;
  /** RabbitMQ topic exchange: `<root>.<scope>.<suffix>`. */
  exchange: string;
  /**
   * @param service the consuming service (`chat`, `notify`, `tap`)
   * @returns its `QUEUE_PREFIX`: `<exchange>.<service>`
   */
  queuePrefix(service: string): string;
  /**
   * @param service the service (`chat`, `user`)
   * @returns its Redis key prefix, without a trailing colon: `<root>:<scope>:<suffix>:<service>`
   */
  redisPrefix(service: string): string;
  /** Pattern matching every Redis key of the run (for cleanup). */
  redisPattern: string;
}

/**
 * Names one run's database, exchange, queues and Redis keys so that runs in parallel (test
 * files, workers, a benchmark, `npm start`) never see each other's objects and cleanup can find
 * everything by prefix.
 * @param scope readable part (`client`, `chat`, `notify`; empty for none)
 * @param opts `root`: first part (default `t`; the benchmark uses `bench`); `suffix`: a given
 *   random part (default: a new {@link uniqueSuffix})
 * @returns the names
 */
export function runNames(scope: string, opts: { root?: string; suffix?: string } = {}): RunNames {
  const suffix = opts.suffix ?? uniqueSuffix();
  const parts = [opts.root ?? 't', ...(scope ? [scope] : []), suffix];
  const exchange = parts.join('.');
  const redisRoot = parts.join(':');
  return {
    suffix,
    database: parts.join('_'),
    exchange,
    queuePrefix: (service) => `${exchange}.${service}`,
    redisPrefix: (service) => `${redisRoot}:${service}`,
    redisPattern: `${redisRoot}:*`,
  };
}

/** A fresh person for tests: ids and addresses unique per call and per run. */
export interface TestPerson {
  /** A random UUID (for services that take the user id from a token or an event). */
  userId: string;
  /** `<id>@example.test`. */
  email: string;
  /** Lowercase `<tag><n><hex>`, valid as a CipherChat username. */
  username: string;
  /** `<Tag> <n>`. */
  displayName: string;
  /** A password long enough for every policy (only ever used locally by OPAQUE clients). */
  password: string;
}

let personCounter = 0;

/**
 * The one user factory of the test suites and the benchmark: a fresh, unique person (isolation
 * by unique data, never by truncation).
 * @param tag readable name part (lowercase letters and digits)
 * @returns the person
 */
export function newPerson(tag = 'u'): TestPerson {
  personCounter += 1;
  const id = `${tag}${personCounter}${uniqueSuffix().slice(0, 6)}`.toLowerCase();
  return {
    userId: randomUUID(),
    email: `${id}@example.test`,
    username: id,
    displayName: `${tag.charAt(0).toUpperCase()}${tag.slice(1)} ${personCounter}`,
    password: `correct horse battery ${id}-${uniqueSuffix()}`,
  };
}

/** What {@link sharedTestEnv} needs: the run a service joins. */
export interface SharedTestEnvOptions {
  /** The run's names. */
  names: RunNames;
  /** URL of the run's database (as the service should reach it). */
  databaseUrl: string;
  /** amqp:// URL (default local RabbitMQ). */
  amqpUrl?: string | undefined;
  /** Where the JWKS is served (default: an unused address, for in-process apps given `verifyToken`). */
  jwksUrl?: string | undefined;
}

/**
 * The part of a test or benchmark environment that chat-service and notification-service share:
 * the run's database, exchange and queue prefix, and where tokens are verified. Each service's
 * own `testEnv()` adds its variables.
 * @param service short name for the queue prefix (`chat`, `notify`)
 * @param options the run, database, AMQP and JWKS URLs
 * @returns env entries for `parseConfig`
 */
export function sharedTestEnv(service: string, options: SharedTestEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    AMQP_URL: options.amqpUrl ?? 'amqp://guest:guest@127.0.0.1:5672',
    BUS_EXCHANGE: options.names.exchange,
    QUEUE_PREFIX: options.names.queuePrefix(service),
    JWKS_URL: options.jwksUrl ?? 'http://127.0.0.1:9/unused-jwks.json',
  };
}
