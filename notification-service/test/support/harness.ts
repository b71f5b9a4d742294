import { randomUUID } from 'node:crypto';
import type { EventPayload, EventType } from '@cipherchat/contracts';
import { Bus, createLogger, createMetrics, parseConfig, type TokenVerifier } from '@cipherchat/service-kit';
import {
  LogCapture,
  TokenIssuer,
  createTestDatabase,
  deleteBusObjects,
  newPerson,
  runNames,
  testInfra,
  waitForConsumed,
  type TestDatabase,
} from '@cipherchat/service-kit/testing';
import { configSchema, createApp, type App, type Config } from '../../src/app.js';
import { testEnv } from '../../src/testing.js';
import { SmtpInbox } from './smtp-inbox.js';

/** Everything one integration test file needs, isolated by a random suffix. */
export interface Harness {
  db: TestDatabase;
  inbox: SmtpInbox;
  logs: LogCapture;
  /** Mints access tokens the app accepts (until {@link Harness.useVerifier} replaces its verifier). */
  tokens: TokenIssuer;
  env: Record<string, string>;
  config: Config;
  app: App;
  /** Base URL of the app's HTTP server. */
  baseUrl: string;
  /** A second bus on the same exchange, standing in for user-service / chat-service. */
  publisher: Bus;
  /**
   * Publishes one event.
   * @returns its id
   */
  publish<T extends EventType>(type: T, payload: EventPayload<T>, opts?: { id?: string; occurredAt?: string }): Promise<string>;
  /**
   * Publishes one event and waits until the app's consumer settled it (ack, duplicate or DLQ).
   * @returns the settled delivery
   */
  publishAndWait<T extends EventType>(type: T, payload: EventPayload<T>, opts?: { id?: string; occurredAt?: string }): Promise<{ eventId: string; result: string }>;
  /** Builds a new app on the same database, exchange and queues, replacing `app` (restart). */
  restartApp(): Promise<App>;
  /** Builds another app on the same database and queues, alongside `app` (a replica). */
  replica(): Promise<App>;
  /** Replaces the access-token verifier (e.g. with user-service's real JWKS). */
  useVerifier(verify: TokenVerifier): void;
  /** Closes everything and drops the database, queues and exchange. */
  cleanup(): Promise<void>;
}

/** Which queue consumes which event type. */
export function queueFor(app: App, type: EventType): string {
  if (type === 'user.registered.v1' || type === 'user.profile_updated.v1' || type === 'user.deleted.v1') return app.queues.users;
  if (type === 'chat.message_queued.v1' || type === 'chat.mailbox_drained.v1') return app.queues.digest;
  return app.queues.accountMail;
}

/**
 * Starts SMTP server, database, app and publisher.
 * @param overrides env overrides
 * @returns the harness
 */
export async function startHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  const names = runNames('notify');
  const db = await createTestDatabase(names);
  const inbox = new SmtpInbox();
  await inbox.start();
  const logs = new LogCapture();
  const tokens = await TokenIssuer.create();
  const env = testEnv({
    names,
    databaseUrl: db.url,
    smtpUrl: inbox.url,
    amqpUrl: testInfra.amqpUrl,
    overrides: {
      PORT: '0',
      RETRY_MAX_ATTEMPTS: '6',
      RETRY_BASE_MS: '100',
      RETRY_MAX_MS: '1000',
      DIGEST_DELAY_MINUTES: '15',
      // tests drive the scheduler with runDue(); the timer is tested separately
      DIGEST_POLL_MS: '600000',
      ...overrides,
    },
  });
  const config = parseConfig(configSchema, env);
  let verifier = tokens.verifyToken;
  const build = () => createApp(config, { logger: createLogger('notification-service', 'info', logs), verifyToken: (t) => verifier(t) });
  let app = await build();
  const port = await app.listen(0);
  const publisher = new Bus({
    url: testInfra.amqpUrl,
    exchange: config.BUS_EXCHANGE,
    logger: createLogger('test-publisher', 'silent'),
    metrics: createMetrics('test-publisher', false),
  });
  await publisher.start(true);

  const publish: Harness['publish'] = async (type, payload, opts = {}) => {
    const id = opts.id ?? randomUUID();
    await publisher.publish([{ id, type, occurredAt: opts.occurredAt ?? new Date().toISOString(), aggregateId: randomUUID(), payload }]);
    return id;
  };
  const h: Harness = {
    db,
    inbox,
    logs,
    tokens,
    env,
    config,
    get app() {
      return app;
    },
    baseUrl: `http://127.0.0.1:${port}`,
    publisher,
    publish,
    async publishAndWait(type, payload, opts = {}) {
      const id = opts.id ?? randomUUID();
      const settled = waitForConsumed(app.bus, queueFor(app, type), 1, (e) => e.eventId === id && e.result !== 'retry');
      await publish(type, payload, { ...opts, id });
      const [e] = await settled;
      return { eventId: id, result: e!.result };
    },
    async restartApp() {
      app = await build();
      return app;
    },
    replica: build,
    useVerifier(verify) {
      verifier = verify;
    },
    async cleanup() {
      await app.close();
      await publisher.close();
      await inbox.stop();
      await deleteBusObjects(testInfra.amqpUrl, config.BUS_EXCHANGE, Object.values(app.queues));
      await db.drop();
    },
  };
  return h;
}

/** A user for tests, with the payload pieces events need. */
export interface TestUser {
  userId: string;
  email: string;
  username: string;
  displayName: string;
}

/**
 * A fresh user (unique address per call).
 * @param displayName name to show
 * @returns the user
 */
export function newUser(displayName = 'Alice'): TestUser {
  const { userId, email, username } = newPerson('u');
  return { userId, email, username, displayName };
}

/**
 * Makes the service know the user with a verified address (registered, then a profile update
 * saying verified). Waits until both are consumed. The welcome mail it triggers is returned.
 * @param h harness
 * @param u user
 */
export async function registerVerified(h: Harness, u: TestUser): Promise<void> {
  await h.publishAndWait('user.registered.v1', u);
  await h.publishAndWait('user.profile_updated.v1', { ...u, emailVerified: true });
}
