import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { SMTPServer } from 'smtp-server';
import { createApp as createChatApp, configSchema as chatConfigSchema, type App as ChatApp } from '@cipherchat/chat-service';
import { testEnv as chatTestEnv } from '@cipherchat/chat-service/testing';
import {
  createApp as createNotifyApp,
  configSchema as notifyConfigSchema,
  type App as NotifyApp,
} from '@cipherchat/notification-service';
import { testEnv as notifyTestEnv } from '@cipherchat/notification-service/testing';
import { createApp as createUserApp, configSchema as userConfigSchema, type App as UserApp } from '@cipherchat/user-service';
import { testEnv as userTestEnv } from '@cipherchat/user-service/testing';
import { createLogger, createRedis, createTokenVerifier, parseConfig, type ConsumedEvent } from '@cipherchat/service-kit';
import {
  LogCapture,
  createTestDatabase,
  deleteBusObjects,
  deleteRedisKeys,
  newPerson,
  runNames,
  testInfra,
  type TestDatabase,
} from '@cipherchat/service-kit/testing';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import type { StoredMessage } from '../../src/messages/message.schema.js';

const run = promisify(execFile);

/** The real stack, in-process: user-service, chat-service and notification-service on one fresh database. */
export interface Stack {
  db: TestDatabase;
  exchange: string;
  userUrl: string;
  chatUrl: string;
  userApp: UserApp;
  chatApp: ChatApp;
  notifyApp: NotifyApp;
  userLogs: LogCapture;
  chatLogs: LogCapture;
  notifyLogs: LogCapture;
  /** Every mail notification-service handed to the test SMTP server, raw. */
  mails: string[];
  /** Waits until notification-service settled a delivery matching `match` (already seen ones count). */
  waitForNotify(match: (e: ConsumedEvent) => boolean, timeoutMs?: number): Promise<ConsumedEvent>;
  attachmentsDir: string;
  /** Raw bodies of every RabbitMQ message published on the test exchange. */
  busMessages: Array<{ routingKey: string; body: string }>;
  /** Waits for a bus message matching a predicate (already seen ones count). */
  waitForBus(match: (m: { routingKey: string; body: string }) => boolean, timeoutMs?: number): Promise<{ routingKey: string; body: string }>;
  /** A new SDK client pointed at this stack (`openStore` for a browser-like IndexedDB store). */
  client(deviceName?: string, options?: Pick<ChatClientOptions, 'openStore' | 'sendRetry' | 'socketUrl' | 'now' | 'disappearingSweepMs' | 'fetch' | 'mediaCacheBytes'>): ChatClient;
  /** `pg_dump` of the whole test database (schema and data, every schema). */
  dump(): Promise<string>;
  /** Every byte of every stored attachment blob, as latin1 text. */
  attachmentFiles(): Promise<string>;
  /** Every Redis key of this run (both services' prefixes) with its value, as text. */
  redisDump(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A local SMTP server that accepts every mail (notification-service needs a real one to talk to).
 * @returns its URL, the raw mails it accepted, and a stop function
 */
async function startSmtpSink(): Promise<{ url: string; mails: string[]; stop(): Promise<void> }> {
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 200,
    logger: false,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        done();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Boots user-service, chat-service and notification-service in-process against the local
 * PostgreSQL, RabbitMQ and Redis, on their own database, exchange, queue and key prefixes, with
 * debug logs captured (notification-service mails go to a local SMTP sink).
 * @param chatOverrides chat-service settings for this stack (limits)
 * @returns the stack
 */
export async function startStack(chatOverrides: Record<string, string> = {}): Promise<Stack> {
  const names = runNames('client');
  const db = await createTestDatabase(names);
  const exchange = names.exchange;
  const attachmentsDir = await mkdtemp(path.join(tmpdir(), 'client-att-'));

  const userLogs = new LogCapture();
  const userEnv = await userTestEnv({
    databaseUrl: db.url,
    exchange,
    redisKeyPrefix: `${names.redisPrefix('user')}:`,
    overrides: { LOG_LEVEL: 'debug' },
  });
  const userApp = await createUserApp(parseConfig(userConfigSchema, userEnv), {
    logger: createLogger('user-service', 'debug', userLogs),
  });
  const userUrl = `http://127.0.0.1:${await userApp.listen(0)}`;
  const jwksUrl = `${userUrl}/api/user/.well-known/jwks.json`;

  const chatLogs = new LogCapture();
  const chatConfig = parseConfig(
    chatConfigSchema,
    chatTestEnv({ names, databaseUrl: db.url, jwksUrl, attachmentsDir, amqpUrl: testInfra.amqpUrl, redisUrl: testInfra.redisUrl, overrides: { LOG_LEVEL: 'debug', ...chatOverrides } }),
  );
  const chatApp = await createChatApp(chatConfig, {
    logger: createLogger('chat-service', 'debug', chatLogs),
    verifyToken: createTokenVerifier(userApp.jwks as never),
  });
  const chatUrl = `http://127.0.0.1:${await chatApp.listen(0)}`;

  // notification-service consumes user events and chat.message_queued.v1 from the same exchange.
  const smtp = await startSmtpSink();
  const notifyLogs = new LogCapture();
  const notifyConfig = parseConfig(
    notifyConfigSchema,
    notifyTestEnv({
      names,
      databaseUrl: db.url,
      smtpUrl: smtp.url,
      jwksUrl,
      amqpUrl: testInfra.amqpUrl,
      overrides: { LOG_LEVEL: 'debug', RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_MS: '100', RETRY_MAX_MS: '500' },
    }),
  );
  const notifyApp = await createNotifyApp(notifyConfig, {
    logger: createLogger('notification-service', 'debug', notifyLogs),
    verifyToken: createTokenVerifier(userApp.jwks as never),
  });
  await notifyApp.listen(0);
  const notifyConsumed: ConsumedEvent[] = [];
  const notifyWaiters = new Set<() => void>();
  notifyApp.bus.on('consumed', (e: ConsumedEvent) => {
    notifyConsumed.push(e);
    for (const w of notifyWaiters) w();
  });

  // A tap on the exchange: every message either service publishes, raw.
  const conn = await amqplib.connect(testInfra.amqpUrl);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, exchange, '#');
  const busMessages: Array<{ routingKey: string; body: string }> = [];
  const waiters = new Set<() => void>();
  await ch.consume(
    q.queue,
    (msg) => {
      if (!msg) return;
      busMessages.push({ routingKey: msg.fields.routingKey, body: msg.content.toString('utf8') });
      ch.ack(msg);
      for (const w of waiters) w();
    },
    { noAck: false },
  );

  const clients: ChatClient[] = [];
  return {
    db,
    exchange,
    userUrl,
    chatUrl,
    userApp,
    chatApp,
    notifyApp,
    userLogs,
    chatLogs,
    notifyLogs,
    mails: smtp.mails,
    attachmentsDir,
    busMessages,
    waitForNotify(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = notifyConsumed.find(match);
          if (!found) return;
          notifyWaiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          notifyWaiters.delete(check);
          reject(new Error(`timed out waiting for notification-service; it settled ${notifyConsumed.map((e) => `${e.type}:${e.result}`).join(', ')}`));
        }, timeoutMs);
        notifyWaiters.add(check);
        check();
      });
    },
    waitForBus(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = busMessages.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a bus message; saw ${busMessages.map((m) => m.routingKey).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    client(deviceName = 'test device', options = {}) {
      const c = new ChatClient({
        userApiUrl: `${userUrl}/api/user`,
        chatApiUrl: `${chatUrl}/api/chat`,
        socketUrl: chatUrl,
        deviceName,
        backupDebounceMs: 20,
        ...options,
      });
      clients.push(c);
      return c;
    },
    async dump() {
      const { stdout } = await run('pg_dump', ['--no-owner', '--inserts', db.url], { maxBuffer: 512 * 1024 * 1024 });
      return stdout;
    },
    async attachmentFiles() {
      const out: string[] = [];
      const walk = async (dir: string) => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else out.push((await readFile(p)).toString('latin1'));
        }
      };
      await walk(attachmentsDir);
      return out.join('\n');
    },
    async redisDump() {
      const redis = createRedis(testInfra.redisUrl, 'client-test-scan');
      const out: string[] = [];
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', names.redisPattern, 'COUNT', 500);
          cursor = next;
          for (const key of keys) {
            const type = await redis.type(key);
            const value =
              type === 'string'
                ? await redis.get(key)
                : type === 'hash'
                  ? JSON.stringify(await redis.hgetall(key))
                  : type === 'set'
                    ? JSON.stringify(await redis.smembers(key))
                    : type === 'zset'
                      ? JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
                      : type === 'list'
                        ? JSON.stringify(await redis.lrange(key, 0, -1))
                        : type;
            out.push(`${key} ${value ?? ''}`);
          }
        } while (cursor !== '0');
      } finally {
        await redis.quit();
      }
      return out.join('\n');
    },
    async close() {
      for (const c of clients) c.disconnect();
      await ch.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
      await notifyApp.close();
      await smtp.stop();
      await chatApp.close();
      await userApp.close();
      // notification-service's queues (and their retry and dead-letter queues) on the test exchange.
      await deleteBusObjects(testInfra.amqpUrl, undefined, Object.values(notifyApp.queues));
      await db.drop();
      // Leave nothing behind in Redis either (rate-limit, presence and login-state keys).
      await deleteRedisKeys(testInfra.redisUrl, names.redisPattern);
      await rm(attachmentsDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh account description (unique per run; service-kit's {@link newPerson}).
 * @param tag readable name part
 * @returns signup input
 */
export function account(tag: string) {
  const { email, username, displayName, password } = newPerson(tag);
  return { email, username, displayName, password };
}

/**
 * Resolves with the next message a client stores whose text is `text`.
 * @param c the client
 * @param text message text
 * @returns the stored message
 */
export function messageWith(c: ChatClient, text: string): Promise<StoredMessage> {
  return c.next('message', (m) => m.text === text) as Promise<StoredMessage>;
}
