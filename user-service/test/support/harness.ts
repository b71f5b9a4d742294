import * as opaque from '@serenity-kit/opaque';
import type { EventType } from '@cipherchat/contracts';
import {
  Bus,
  createLogger,
  createMetrics,
  parseConfig,
  type Logger,
} from '@cipherchat/service-kit';
import {
  LogCapture,
  createTestDatabase,
  deleteBusObjects,
  newPerson,
  runNames,
  testInfra,
  type TestDatabase,
} from '@cipherchat/service-kit/testing';
import { configSchema, createApp, type App } from '../../src/app.js';
import { generateSecrets, testEnv, type UserServiceSecrets } from '../../src/testing.js';

/** An event seen on the test queue. */
export interface SeenEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** One test file's world: a fresh database, its own exchange and Redis prefix, captured logs. */
export interface Harness {
  db: TestDatabase;
  exchange: string;
  redisKeyPrefix: string;
  secrets: UserServiceSecrets;
  logs: LogCapture;
  logger: Logger;
  /** Every event published by the apps, in arrival order. */
  events: SeenEvent[];
  /** Boots an app (listening on a free port) with optional env overrides. */
  startApp(overrides?: Record<string, string>): Promise<{ app: App; url: string }>;
  /** Waits for an event matching the predicate (already seen ones count). */
  waitForEvent(
    type: EventType,
    match?: (e: SeenEvent) => boolean,
    timeoutMs?: number,
  ): Promise<SeenEvent>;
  close(): Promise<void>;
}

const ALL_USER_EVENTS = [
  'user.registered.v1',
  'user.email_verification_requested.v1',
  'user.password_reset_requested.v1',
  'user.new_login.v1',
  'user.deleted.v1',
  'user.profile_updated.v1',
] as const;

/**
 * Creates the harness: database, exchange, an event tap (queue bound to the test exchange).
 * @param name readable prefix
 * @returns the harness
 */
export async function createHarness(name: string): Promise<Harness> {
  const names = runNames(`user_${name}`);
  const db = await createTestDatabase(names);
  const exchange = names.exchange;
  const redisKeyPrefix = `${names.redisPrefix('user')}:`;
  const secrets = await generateSecrets();
  const logs = new LogCapture();
  const logger = createLogger('user-service', 'debug', logs);
  const events: SeenEvent[] = [];
  const waiters = new Set<() => void>();
  const tap = new Bus({
    url: testInfra.amqpUrl,
    exchange,
    logger: createLogger('tap', 'warn', new LogCapture()),
    metrics: createMetrics('tap', false),
  });
  await tap.start(true);
  const tapQueue = names.queuePrefix('tap');
  await tap.consume({
    queue: tapQueue,
    types: ALL_USER_EVENTS,
    handler: async (event) => {
      events.push({
        id: event.id,
        type: event.type,
        payload: event.payload as Record<string, unknown>,
      });
      for (const w of waiters) w();
    },
  });
  const apps: App[] = [];
  return {
    db,
    exchange,
    redisKeyPrefix,
    secrets,
    logs,
    logger,
    events,
    async startApp(overrides = {}) {
      const env = await testEnv({
        databaseUrl: db.url,
        exchange,
        redisKeyPrefix,
        secrets,
        overrides: { LOG_LEVEL: 'debug', ...overrides },
      });
      const app = await createApp(parseConfig(configSchema, env), {
        logger,
        metrics: createMetrics('user-service', false),
      });
      apps.push(app);
      const port = await app.listen(0);
      return { app, url: `http://127.0.0.1:${port}` };
    },
    waitForEvent(type, match = () => true, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.type === type && match(e));
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`timed out waiting for ${type}; saw ${events.map((e) => e.type).join(', ')}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      // leave nothing behind in the shared Redis
      const redis = apps[0]?.redis;
      if (redis) {
        const keys = await redis.keys(`${redisKeyPrefix}*`);
        if (keys.length) await redis.del(...keys);
      }
      for (const app of apps) await app.close();
      await tap.close();
      await deleteBusObjects(testInfra.amqpUrl, exchange, [tapQueue]);
      await db.drop();
    },
  };
}

/** JSON request helper. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
): Promise<{ status: number; body: any; headers: Headers; raw: string }> {
  const res = await fetch(`${base}/api/user${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const raw = await res.text();
  let parsed: unknown;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = raw;
  }
  return { status: res.status, body: parsed, headers: res.headers, raw };
}

/** Everything secret a test client produced, so the scan test can look for it. */
export const seenSecrets = new Set<string>();
const remember = (...values: (string | undefined)[]) => {
  for (const v of values) if (v) seenSecrets.add(v);
};

/** A test account. */
export interface Account {
  email: string;
  username: string;
  password: string;
}

/**
 * A fresh account description (service-kit's {@link newPerson}).
 * @param tag name part
 * @returns email, username, password
 */
export function newAccount(tag = 'u'): Account {
  const { email, username, password } = newPerson(tag);
  return { email, username, password };
}

const CLI = { 'x-client': 'cli' };

/** Client-side choices of a sign-up or log-in that the server never sees. */
export interface ClientOptions {
  /**
   * OPAQUE key stretching (default: the library's memory-constrained Argon2id). Sign-up and every
   * log-in of one account must use the same; cheap settings make fixtures that sign up many
   * people fast.
   */
  keyStretching?: opaque.client.FinishRegistrationParams['keyStretching'];
}

/**
 * Registers over OPAQUE as a client would (the password never leaves this function), then logs
 * in as the SDK does (register/finish opens no session: it answers 202 for free and taken
 * addresses alike).
 * @param base service URL
 * @param acc account
 * @returns the login/finish answer, or the first refused step's answer
 */
export async function register(base: string, acc: Account, headers: Record<string, string> = CLI) {
  const finish = await registerOnly(base, acc, headers);
  if (finish.status !== 202) return finish;
  const { start, finish: loggedIn } = await login(base, acc, headers);
  return loggedIn ?? start;
}

/**
 * The two registration steps only.
 * @param base service URL
 * @param acc account
 * @param headers extra headers (X-Forwarded-For, X-Client)
 * @param options client-side choices ({@link ClientOptions})
 * @returns the register/finish answer (or register/start's when it refused)
 */
export async function registerOnly(
  base: string,
  acc: Account,
  headers: Record<string, string> = CLI,
  options: ClientOptions = {},
) {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
    password: acc.password,
  });
  const start = await call(
    base,
    'POST',
    '/auth/register/start',
    { email: acc.email, username: acc.username, registrationRequest },
    headers,
  );
  if (start.status !== 200) return start;
  const { registrationRecord } = opaque.client.finishRegistration({
    clientRegistrationState,
    registrationResponse: start.body.registrationResponse,
    password: acc.password,
    keyStretching: options.keyStretching,
  });
  remember(registrationRequest, start.body.registrationResponse);
  const finish = await call(
    base,
    'POST',
    '/auth/register/finish',
    {
      email: acc.email,
      username: acc.username,
      displayName: `Display ${acc.username}`,
      registrationRecord,
    },
    headers,
  );
  return finish;
}

/**
 * OPAQUE login; returns both steps' answers and what the client computed.
 * @param base service URL
 * @param acc account (its password is used locally only)
 * @param headers extra headers (X-Forwarded-For, X-Client)
 * @param options client-side choices ({@link ClientOptions}), the same as at sign-up
 * @returns the finish answer, plus the finishLoginRequest for replay tests
 */
export async function login(
  base: string,
  acc: Account,
  headers: Record<string, string> = CLI,
  options: ClientOptions = {},
) {
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({
    password: acc.password,
  });
  const start = await call(
    base,
    'POST',
    '/auth/login/start',
    { email: acc.email, startLoginRequest },
    headers,
  );
  if (start.status !== 200) return { start, finish: undefined, finishLoginRequest: undefined };
  remember(startLoginRequest, start.body.loginResponse);
  const done = opaque.client.finishLogin({
    clientLoginState,
    loginResponse: start.body.loginResponse,
    password: acc.password,
    keyStretching: options.keyStretching,
  });
  if (!done) return { start, finish: undefined, finishLoginRequest: undefined };
  remember(done.finishLoginRequest, done.sessionKey, done.exportKey);
  const finish = await call(
    base,
    'POST',
    '/auth/login/finish',
    { email: acc.email, finishLoginRequest: done.finishLoginRequest },
    headers,
  );
  remember(finish.body?.accessToken, finish.body?.refreshToken);
  return { start, finish, finishLoginRequest: done.finishLoginRequest, exportKey: done.exportKey };
}

/**
 * Records a secret the test saw (tokens from events, etc.).
 * @param values secrets
 */
export function rememberSecret(...values: (string | undefined)[]): void {
  remember(...values);
}

/**
 * The raw token of a link from an event.
 * @param url verifyUrl / resetUrl
 * @returns the token
 */
export function tokenOf(url: unknown): string {
  const t = new URL(String(url)).searchParams.get('token');
  if (!t) throw new Error(`no token in ${String(url)}`);
  remember(t);
  return t;
}
