import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChatClient, type StoredMessage } from '@cipherchat/client';
import {
  createApp as createChatApp,
  configSchema as chatConfigSchema,
  type App as ChatApp,
} from '@cipherchat/chat-service';
import { testEnv as chatTestEnv } from '@cipherchat/chat-service/testing';
import { createLogger, createTokenVerifier, parseConfig } from '@cipherchat/service-kit';
import {
  createTestDatabase,
  deleteBusObjects,
  deleteRedisKeys,
  runNames,
  testInfra,
  uniqueSuffix,
  type RunNames,
  type TestDatabase,
} from '@cipherchat/service-kit/testing';
import {
  createApp as createUserApp,
  configSchema as userConfigSchema,
  type App as UserApp,
} from '@cipherchat/user-service';
import { testEnv as userTestEnv } from '@cipherchat/user-service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request } from './support/net.js';
import { REPO_ROOT, startNginx, type NginxHandle } from './support/nginx.js';
import { startEchoService, type EchoService } from './support/upstreams.js';

// The product's own traffic through the production edge: real user-service and chat-service
// (in-process, fresh database, exchange and prefixes) behind the prod nginx with TLS and
// ModSecurity + OWASP CRS, driven by the real client SDK (OPAQUE sign-up and login, device keys,
// key backup, Socket.IO over WebSocket, an encrypted attachment). Nothing may be blocked.

let db: TestDatabase;
let userApp: UserApp;
let chatApp: ChatApp;
let notify: EchoService;
let nginx: NginxHandle;
let dir: string;
let names: RunNames;
const clients: ChatClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cc-waf-stack-'));
  chmodSync(dir, 0o755);
  // Trusted by the SDK through NODE_EXTRA_CA_CERTS (test/global-setup.ts).
  const cert = process.env.OPS_TLS_CERT!;
  const key = process.env.OPS_TLS_KEY!;
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');

  names = runNames('ops_waf');
  db = await createTestDatabase(names);
  const quiet = createLogger('ops-test', 'silent');
  userApp = await createUserApp(
    parseConfig(
      userConfigSchema,
      await userTestEnv({
        databaseUrl: db.url,
        exchange: names.exchange,
        redisKeyPrefix: `${names.redisPrefix('user')}:`,
      }),
    ),
    { logger: quiet },
  );
  const userPort = await userApp.listen(0);
  chatApp = await createChatApp(
    parseConfig(
      chatConfigSchema,
      chatTestEnv({
        names,
        databaseUrl: db.url,
        jwksUrl: `http://127.0.0.1:${userPort}/api/user/.well-known/jwks.json`,
        attachmentsDir: path.join(dir, 'attachments'),
        amqpUrl: testInfra.amqpUrl,
        redisUrl: testInfra.redisUrl,
        overrides: { LOG_LEVEL: 'silent' },
      }),
    ),
    { logger: quiet, verifyToken: createTokenVerifier(userApp.jwks as never) },
  );
  const chatPort = await chatApp.listen(0);
  notify = await startEchoService('notification-service');
  nginx = await startNginx('nginx/prod.conf.template', {
    NGINX_HTTP_PORT: String(await freePort()),
    USER_UPSTREAM: `server 127.0.0.1:${userPort};`,
    CHAT_UPSTREAM: `server 127.0.0.1:${chatPort};`,
    NOTIFY_UPSTREAM: `server 127.0.0.1:${notify.port};`,
    WEB_ROOT: dir,
    TLS_CERT: cert,
    TLS_KEY: key,
    MODSEC_MAIN: path.join(REPO_ROOT, 'nginx/modsecurity/main.conf'),
  });
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await nginx?.stop();
  await chatApp?.close();
  await userApp?.close();
  await notify?.close();
  await db?.drop();
  if (names) {
    await deleteBusObjects(testInfra.amqpUrl, names.exchange, [`${names.queuePrefix('chat')}.user-deleted`]);
    await deleteRedisKeys(testInfra.redisUrl, names.redisPattern);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function client(deviceName: string): ChatClient {
  const origin = `https://127.0.0.1:${nginx.port}`;
  const c = new ChatClient({
    userApiUrl: `${origin}/api/user`,
    chatApiUrl: `${origin}/api/chat`,
    socketUrl: origin,
    deviceName,
    backupDebounceMs: 20,
  });
  clients.push(c);
  return c;
}

function account(tag: string) {
  const id = `${tag}${uniqueSuffix().slice(0, 8)}`;
  return {
    email: `${id}@example.org`,
    username: id,
    displayName: `${tag} O'Brien <tester>`,
    password: `correct horse battery ${id}`,
  };
}

describe('the app through the prod edge (TLS + ModSecurity/CRS) with the real services and SDK', () => {
  it('when two people sign up, talk, send an attachment and log in on a new device, then nothing is blocked', async () => {
    const blockedBefore = (nginx.errorLog().match(/Access denied/g) ?? []).length;
    const aliceIn = account('alice');
    const alice = client('alice laptop');
    await alice.signUp(aliceIn);
    const bob = client('bob laptop');
    await bob.signUp(account('bob'));

    const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
    const text = `hello Bob; SELECT this <b>isn't</b> markup, it's end-to-end encrypted`;
    const received = bob.next('message', (m) => m.text === text) as Promise<StoredMessage>;
    const sent = await alice.sendText(direct.id, text);
    expect((await received).id).toBe(sent.id);

    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
    const incoming = bob.next('message', (m) => m.kind === 'attachment') as Promise<StoredMessage>;
    await alice.sendAttachment(direct.id, bytes, {
      contentType: 'application/octet-stream',
      fileName: 'blob.bin',
    });
    const att = await incoming;
    expect(
      Buffer.from(await bob.downloadAttachment(att.attachment!)).equals(Buffer.from(bytes)),
    ).toBe(true);

    // A second device: OPAQUE login, key backup download and unwrap, new device keys.
    await alice.flushBackup();
    const alice2 = client('alice phone');
    const login = await alice2.logIn(aliceIn);
    expect(login.identity).toBe('restored');
    const toPhone = alice2.next(
      'message',
      (m) => m.text === 'to both of your devices',
    ) as Promise<StoredMessage>;
    await bob.sendText(direct.id, 'to both of your devices');
    expect((await toPhone).text).toBe('to both of your devices');

    expect((nginx.errorLog().match(/Access denied/g) ?? []).length).toBe(blockedBefore);
  });

  it('when an attack rides on the same API, then the edge still answers 403', async () => {
    const res = await request(
      nginx.port,
      "/api/user/users?query=x'%20UNION%20SELECT%20email%20FROM%20users.accounts--",
      { tls: true },
    );
    expect(res.status).toBe(403);
  });
});
